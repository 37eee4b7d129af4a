"""Shared fixtures: the project's configuration, small demo tables, and fresh clones."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from support import REPO_ROOT, fresh_clone

from slipway.config import Config, load_config
from slipway.data.generator import ChurnSettings, generate_churn

FIRST = ("workflows", "pipeline")
"""Folders of the longest end-to-end files (act runs, fresh-clone pipelines), which start first."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the slow end-to-end files first and the many quick tests last, so that parallel workers finish together
    (pytest-xdist hands out whole files in this order) instead of one worker ending on a long act run alone."""

    def rank(item: pytest.Item) -> tuple[int, int]:
        folder = item.path.parent.name
        return (0 if item.get_closest_marker("slow") else 1, FIRST.index(folder) if folder in FIRST else len(FIRST))

    items.sort(key=rank)  # stable: the order inside each group stays the collection order


@pytest.fixture(scope="session")
def config() -> Config:
    return load_config(REPO_ROOT / "params.yaml")


@pytest.fixture(scope="session")
def churn_frame() -> pd.DataFrame:
    """2,000 demo rows (session-wide: treat as read-only, copy before changing)."""
    return generate_churn(ChurnSettings(rows=2_000, seed=7))


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A fresh clone of the working tree in a temporary folder."""
    return fresh_clone(tmp_path / "repo")
