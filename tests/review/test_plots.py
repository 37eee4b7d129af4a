"""The report's charts: every plot of every task in ``slipway.tasks`` is drawn by its kind, from the rows its own
data function writes, as a small PNG, with and without a base to compare."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from slipway.metrics.plot_data import PlotSettings
from slipway.review import plots
from slipway.tasks import TASKS, Plot

PNG = b"\x89PNG\r\n\x1a\n"
ROWS = 500


def _outputs(task: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Truth and model output of the shape the task's plot data takes."""
    rng = np.random.default_rng(seed)
    if task == "binary":
        y = rng.integers(0, 2, ROWS)
        return y, np.clip(y * 0.3 + rng.random(ROWS) * 0.7, 0, 1)
    if task == "multiclass":
        y = rng.integers(0, 3, ROWS)
        proba = np.eye(3)[y] * 0.5 + rng.random((ROWS, 3))
        return y, proba / proba.sum(axis=1, keepdims=True)
    actual = rng.normal(100, 20, ROWS)
    return actual, actual + rng.normal(0, 5, ROWS)


def _rows(task: str, plot: Plot, seed: int) -> list[dict]:
    if plot.data is None:  # permutation importance comes from the model
        rng = np.random.default_rng(seed)
        return [{"feature": f, "importance": float(v), "std": 0.0} for f, v in zip("abcd", rng.random(4), strict=True)]
    settings = PlotSettings(classes=("setosa", "versicolor", "virginica"), scatter_points=200, curve_points=50)
    return plot.data(*_outputs(task, seed), settings)


CASES = [(task, plot) for task, spec in TASKS.items() for plot in spec.plots]


@pytest.mark.parametrize(("task", "plot"), CASES, ids=[f"{task}-{plot.name}" for task, plot in CASES])
def test_every_plot_of_every_task_is_drawn_with_or_without_base(tmp_path: Path, task: str, plot: Plot) -> None:
    pr, base = _rows(task, plot, seed=0), _rows(task, plot, seed=1)
    alone = plots.draw(plot, tmp_path / "alone.png", pr)
    both = plots.draw(plot, tmp_path / "both.png", pr, base, "main")
    for path in (alone, both):
        assert path.read_bytes()[:8] == PNG
        assert 2_000 < path.stat().st_size < 80_000  # small enough for a PR comment
    assert both.read_bytes() != alone.read_bytes()  # the base is drawn too


def test_a_plot_added_to_the_table_is_drawn_by_its_kind(tmp_path: Path) -> None:
    """A new plot needs no drawing code: its kind, axes and title are enough."""
    gains = Plot("gains.json", "Cumulative gains", "simple", "share", "captured", "curve", guide="diagonal")
    rows = [{"share": s, "captured": min(1.0, 1.6 * s)} for s in np.linspace(0, 1, 21)]
    path = plots.draw(gains, tmp_path / "gains.png", rows)
    assert path.read_bytes()[:8] == PNG
    other = plots.draw(Plot(**{**gains.__dict__, "title": "Lift"}), tmp_path / "lift.png", rows)
    assert other.read_bytes() != path.read_bytes()  # the title is the plot's own


def test_confusion_matrix_takes_any_class_labels(tmp_path: Path) -> None:
    multiclass = TASKS["multiclass"].plots[0]
    y = np.repeat([0, 1, 2], 20)
    assert multiclass.data is not None
    rows = multiclass.data(y, np.eye(3)[np.roll(y, 1)], PlotSettings(classes=("setosa", "versicolor", "virginica")))
    labels, matrix = plots._matrix(rows)
    assert labels == ["setosa", "versicolor", "virginica"]
    assert sum(map(sum, matrix)) == 60
    assert plots.draw(multiclass, tmp_path / "multiclass.png", rows, rows, "main").read_bytes()[:8] == PNG


def test_drift_chart(tmp_path: Path) -> None:
    path = plots.drift(tmp_path / "drift.png", {"age": 0.01, "monthly_charges": 0.6}, 0.2)
    assert path.read_bytes()[:8] == PNG
