"""Fixtures for end-to-end pipeline tests: a copy of the reproduced clone for each module."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import copy_clone


@pytest.fixture(scope="module")
def repro_clone(reproduced_source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of this run's reproduced clone, shared by one module's tests (each leaves it as it found it)."""
    return copy_clone(reproduced_source, tmp_path_factory.mktemp("pipeline") / "repo")
