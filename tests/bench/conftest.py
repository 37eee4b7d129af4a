"""The benchmark scripts live in bench/ and import each other by plain name, as when run as `python bench/x.py`."""

from __future__ import annotations

import sys

from support import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "bench"))
