"""Small file helpers shared by the stage scripts and the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_json(data: Any, path: Path | str) -> None:
    """Pretty, sorted-free JSON with a trailing newline, creating the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")


def read_json(path: Path | str) -> Any:
    return json.loads(Path(path).read_text())
