"""Plot data of the evaluate stage: small, finite and consistent whatever the number of test rows."""

from __future__ import annotations

import json

import numpy as np
import pytest

from slipway.metrics import plot_data
from slipway.metrics.plot_data import PlotSettings

rng = np.random.default_rng(0)
Y = rng.integers(0, 2, 5000)
SCORE = np.clip(Y * 0.3 + rng.random(5000) * 0.7, 0, 1)


@pytest.mark.parametrize("points", [5, 101])
def test_curves_stay_small_and_finite_at_any_size(points):
    settings = PlotSettings(curve_points=points)
    roc, pr = plot_data.roc_points(Y, SCORE, settings), plot_data.pr_points(Y, SCORE, settings)
    assert len(roc) <= points and len(pr) <= points
    assert roc[0]["fpr"] == 0 and roc[-1]["tpr"] == 1
    text = json.dumps(roc)
    assert "Infinity" not in text and "NaN" not in text


def test_binary_confusion_counts_add_up_at_the_threshold():
    cells = plot_data.binary_confusion(Y, SCORE, PlotSettings(threshold=0.5))
    assert len(cells) == 4 and sum(c["count"] for c in cells) == len(Y)
    predicted_positive = sum(c["count"] for c in cells if c["predicted"] == 1)
    assert predicted_positive == int((SCORE >= 0.5).sum())


def test_calibration_bins():
    points = plot_data.calibration_points(Y, SCORE, PlotSettings(calibration_bins=10))
    assert 2 <= len(points) <= 10
    assert all(0 <= p["observed"] <= 1 for p in points)


def test_class_confusion_counts_every_cell_labelled_by_the_model_classes():
    y = np.array([0, 0, 1, 2])
    proba = np.eye(3)[[0, 1, 1, 0]]
    rows = plot_data.class_confusion(y, proba, PlotSettings(classes=(np.str_("a"), np.str_("b"), np.str_("c"))))
    assert len(rows) == 9 and sum(r["count"] for r in rows) == 4
    cell = {(r["actual"], r["predicted"]): r["count"] for r in rows}
    assert cell[("a", "a")] == 1 and cell[("a", "b")] == 1 and cell[("c", "a")] == 1 and cell[("c", "c")] == 0
    assert all(type(r["actual"]) is str for r in rows)  # plain values: the rows go to JSON


def test_regression_plot_rows_are_downsampled_and_consistent():
    y = rng.normal(size=2_000)
    p = y + rng.normal(scale=0.1, size=2_000)
    settings = PlotSettings(scatter_points=300, seed=1)
    scatter, residuals = plot_data.predicted_vs_actual(y, p, settings), plot_data.residuals(y, p, settings)
    assert len(scatter) == len(residuals) == 300
    for s, r in zip(scatter, residuals, strict=True):
        assert r["predicted"] == s["predicted"]
        assert r["residual"] == pytest.approx(s["actual"] - s["predicted"], abs=1e-5)
    assert len(plot_data.predicted_vs_actual(y[:50], p[:50], settings)) == 50
