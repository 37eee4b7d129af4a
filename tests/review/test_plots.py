"""The report's charts: real PNGs from the evaluate stage's plot data, with and without a base to compare."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from slipway.pipeline.evaluation import binary as evaluation
from slipway.review import plots

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def plot_data() -> dict[str, list[dict]]:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    proba = np.clip(y * 0.3 + rng.random(500) * 0.7, 0, 1)
    return {
        "roc": evaluation.roc_points(y, proba, 50),
        "precision_recall": evaluation.pr_points(y, proba, 50),
        "calibration": evaluation.calibration_points(y, proba, 10),
        "confusion": evaluation.confusion_counts(y, proba, 0.5),
        "importance": [{"feature": f, "importance": v, "std": 0.0} for f, v in (("a", 0.1), ("b", 0.02))],
    }


@pytest.mark.parametrize("name", ["roc", "precision_recall", "calibration", "confusion", "importance"])
def test_each_chart_is_a_png_with_or_without_base(tmp_path: Path, plot_data, name: str) -> None:
    draw = getattr(plots, name)
    alone = draw(tmp_path / f"{name}-alone.png", plot_data[name])
    both = draw(tmp_path / f"{name}-both.png", plot_data[name], plot_data[name], "main")
    for path in (alone, both):
        assert path.read_bytes()[:8] == PNG
        assert 2_000 < path.stat().st_size < 80_000  # small enough for a PR comment
    assert both.read_bytes() != alone.read_bytes()  # the base is drawn too


def test_drift_chart(tmp_path: Path) -> None:
    path = plots.drift(tmp_path / "drift.png", {"age": 0.01, "monthly_charges": 0.6}, 0.2)
    assert path.read_bytes()[:8] == PNG


def test_confusion_matrix_takes_any_class_labels(tmp_path: Path) -> None:
    from slipway.pipeline.evaluation.multiclass import confusion_counts

    y = np.array(["setosa", "versicolor", "virginica"] * 20)
    predicted = np.roll(y, 1)
    rows = confusion_counts(y, predicted, np.array(["setosa", "versicolor", "virginica"]))
    labels, matrix = plots._matrix(rows)
    assert labels == ["setosa", "versicolor", "virginica"]
    assert sum(map(sum, matrix)) == 60 and all(row[i] == 0 for i, row in enumerate(matrix))
    assert plots.confusion(tmp_path / "multiclass.png", rows, rows, "main").read_bytes()[:8] == PNG


@pytest.mark.parametrize("name", ["predicted_vs_actual", "residuals"])
def test_regression_charts(tmp_path: Path, name: str) -> None:
    from slipway.pipeline.evaluation.regression import predicted_vs_actual, residual_points

    rng = np.random.default_rng(1)
    actual = rng.normal(100, 20, 300)
    predicted = actual + rng.normal(0, 5, 300)
    make = {"predicted_vs_actual": predicted_vs_actual, "residuals": residual_points}[name]
    rows = make(actual, predicted, 200, 0)
    alone = getattr(plots, name)(tmp_path / "alone.png", rows)
    both = getattr(plots, name)(tmp_path / "both.png", rows, make(actual, actual, 200, 0), "main")
    assert alone.read_bytes()[:8] == PNG and 2_000 < alone.stat().st_size < 80_000
    assert both.read_bytes() != alone.read_bytes()
