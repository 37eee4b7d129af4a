"""Shared fixtures: the project's configuration, small demo tables, and fresh clones."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from support import REPO_ROOT, fresh_clone

from slipway.config import Config, load_config
from slipway.generator import ChurnSettings, generate_churn


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
