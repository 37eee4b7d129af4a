"""Fixtures for end-to-end pipeline tests: fresh clones with the data pulled and the pipeline reproduced."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import reproduced_clone


@pytest.fixture(scope="module")
def repro_clone(tmp_path_factory) -> Path:
    return reproduced_clone(tmp_path_factory.mktemp("pipeline") / "repo")
