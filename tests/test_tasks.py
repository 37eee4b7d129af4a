"""The one table per task is consistent with itself and with the project's files that depend on it."""

from __future__ import annotations

import pytest
import yaml
from support import REPO_ROOT

from slipway.review.plots import RENDERERS
from slipway.tasks import TASKS


def test_the_demo_dvc_yaml_declares_exactly_the_plots_of_its_task(config):
    """`slipway adopt` writes the other tasks' declarations from the same table."""
    declared = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["plots"]
    assert declared == [plot.dvc_declaration() for plot in TASKS[config.data.task].plots]


def test_the_demo_gate_and_kpis_name_metrics_of_its_task(config):
    spec = TASKS[config.data.task]
    gate = config.gate
    assert set(gate.lower_is_better) == set(spec.lower_is_better)
    assert {*gate.minimum, *gate.maximum, *gate.max_regression} <= set(spec.metric_names)
    assert set(config.monitor.kpis) <= set(spec.kpis)


@pytest.mark.parametrize("task", list(TASKS))
def test_each_entry_is_consistent(task):
    spec = TASKS[task]
    assert spec.name == task
    names = spec.metric_names
    assert len(set(names)) == len(names)
    assert set(spec.max_regression) | set(spec.floors) <= set(names)
    assert set(spec.kpi_bounds) <= set(spec.kpis)
    files = [plot.file for plot in spec.plots]
    assert len(set(files)) == len(files) and len({plot.title for plot in spec.plots}) == len(files)
    assert all(plot.kind in RENDERERS for plot in spec.plots)
    assert [plot.file for plot in spec.plots if plot.data is None] == ["importance.json"]  # the model's plot
