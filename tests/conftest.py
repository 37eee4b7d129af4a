"""Shared fixtures: the demo configuration, small demo tables, a trained demo model, and clones of the project
(fresh ones, and ones pulled or reproduced once per test run that tests copy)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from support import built_once, copy_clone, demo_config, fresh_clone, pull_data, reproduce
from support.budgets import register_profiles
from support.ordering import order_for_workers, remember_durations

if TYPE_CHECKING:  # the fixtures import what they build lazily: every xdist worker and the controller load this file
    import pandas as pd
    from sklearn.pipeline import Pipeline

    from slipway.config import Config

register_profiles()


def pytest_configure(config: pytest.Config) -> None:
    remember_durations(config)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    order_for_workers(config, items)


@pytest.fixture(scope="session")
def config() -> Config:
    """The demo's configuration (tests/support/demo), whatever data the project itself has."""
    return demo_config()


@pytest.fixture(scope="session")
def churn_frame() -> pd.DataFrame:
    """2,000 demo rows (session-wide: treat as read-only, copy before changing)."""
    from slipway.data.generator import ChurnSettings, generate_churn

    return generate_churn(ChurnSettings(rows=2_000, seed=7))


@pytest.fixture(scope="session")
def monitor_model(config: Config) -> Pipeline:
    """The demo model fitted on the monitoring reference rows (session-wide: do not refit it)."""
    from support.monitor_data import fit_model, reference_frame

    return fit_model(config, reference_frame())


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A fresh clone of the working tree in a temporary folder."""
    return fresh_clone(tmp_path / "repo")


@pytest.fixture(scope="session")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder shared by every pytest-xdist worker of this test run."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def pulled_source(run_folder: Path) -> Path:
    """A fresh clone with the data pulled, made once per test run: read-only, use ``pulled_clone`` to change one."""
    return built_once(run_folder / "pulled", lambda dest: pull_data(fresh_clone(dest)))


@pytest.fixture(scope="session")
def reproduced_source(run_folder: Path, pulled_source: Path) -> Path:
    """That clone with the whole pipeline reproduced (`slipway repro`), made once per test run: read-only, use
    ``reproduced_clone`` to change one. Its DVC cache holds every stage's outputs and run-cache entries."""
    return built_once(run_folder / "reproduced", lambda dest: reproduce(copy_clone(pulled_source, dest)))


@pytest.fixture
def pulled_clone(pulled_source: Path, tmp_path: Path) -> Path:
    """A copy of the pulled clone of this test run, to change freely."""
    return copy_clone(pulled_source, tmp_path / "repo")


@pytest.fixture
def reproduced_clone(reproduced_source: Path, tmp_path: Path) -> Path:
    """A copy of the reproduced clone of this test run, to change freely."""
    return copy_clone(reproduced_source, tmp_path / "repo")
