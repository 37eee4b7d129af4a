"""Metrics and plot data for multiclass and regression, and the per-task dispatch used by the evaluate stage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes, load_iris
from sklearn.metrics import mean_squared_error

from slipway.config import EvaluateConfig, FeaturesConfig, Task, TrainConfig
from slipway.pipeline.evaluation.evaluate import PLOT_FILES, evaluate
from slipway.pipeline.evaluation.multiclass import confusion_counts, multiclass_metrics
from slipway.pipeline.evaluation.regression import (
    mape_is_safe,
    predicted_vs_actual,
    regression_metrics,
    residual_points,
)
from slipway.pipeline.model import build_pipeline

CLASSES = np.array(["a", "b", "c"])


def test_multiclass_metrics_on_known_predictions():
    y = np.array(["a", "b", "c", "a", "b", "c"])
    perfect = np.eye(3)[[0, 1, 2, 0, 1, 2]] * 0.97 + 0.01
    metrics = multiclass_metrics(y, perfect, CLASSES)
    assert metrics["accuracy"] == 1.0 and metrics["f1_macro"] == 1.0 and metrics["roc_auc_ovr"] == 1.0
    assert metrics["log_loss"] == pytest.approx(-np.log(0.98), abs=1e-5)
    wrong = np.eye(3)[[1, 2, 0, 1, 2, 0]]
    assert multiclass_metrics(y, wrong, CLASSES)["accuracy"] == 0.0


def test_multiclass_roc_auc_is_left_out_when_a_class_is_missing_from_the_test_rows():
    y = np.array(["a", "b", "a", "b"])
    proba = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.6, 0.3, 0.1], [0.2, 0.7, 0.1]])
    metrics = multiclass_metrics(y, proba, CLASSES)
    assert "roc_auc_ovr" not in metrics and metrics["accuracy"] == 1.0


def test_multiclass_confusion_counts_every_cell():
    rows = confusion_counts(np.array(["a", "a", "b", "c"]), np.array(["a", "b", "b", "a"]), CLASSES)
    assert len(rows) == 9 and sum(r["count"] for r in rows) == 4
    cell = {(r["actual"], r["predicted"]): r["count"] for r in rows}
    assert cell[("a", "a")] == 1 and cell[("a", "b")] == 1 and cell[("c", "a")] == 1 and cell[("c", "c")] == 0


def test_regression_metrics_on_known_values():
    y, p = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.5, 2.0, 2.5, 5.0])
    metrics = regression_metrics(y, p)
    assert metrics["mae"] == pytest.approx(0.5)
    assert metrics["rmse"] == pytest.approx(np.sqrt(mean_squared_error(y, p)), abs=1e-6)
    assert metrics["r2"] == pytest.approx(1 - 1.5 / 5.0)
    assert metrics["mape"] == pytest.approx((0.5 + 0 + 0.5 / 3 + 0.25) / 4, abs=1e-6)


def test_mape_is_left_out_when_a_target_is_near_zero():
    assert mape_is_safe(np.array([1.0, 5.0, 10.0]))
    assert not mape_is_safe(np.array([0.0, 5.0, 10.0]))
    assert not mape_is_safe(np.array([1e-6, 5.0, 10.0]))
    assert "mape" not in regression_metrics(np.array([0.0, 1.0, 2.0]), np.array([0.1, 1.0, 2.0]))


def test_regression_plot_rows_are_downsampled_and_consistent():
    rng = np.random.default_rng(0)
    y = rng.normal(size=2_000)
    p = y + rng.normal(scale=0.1, size=2_000)
    scatter, residuals = predicted_vs_actual(y, p, 300, 1), residual_points(y, p, 300, 1)
    assert len(scatter) == len(residuals) == 300
    for s, r in zip(scatter, residuals, strict=True):
        assert r["predicted"] == s["predicted"]
        assert r["residual"] == pytest.approx(s["actual"] - s["predicted"], abs=1e-5)
    assert len(predicted_vs_actual(y[:50], p[:50], 300, 1)) == 50


def _iris() -> pd.DataFrame:
    frame = load_iris(as_frame=True).frame
    frame["species"] = np.array(["setosa", "versicolor", "virginica"])[frame.pop("target")]
    return frame


def _fit(frame: pd.DataFrame, target: str, task: Task, model: str = "logreg"):
    features = FeaturesConfig(numeric=[c for c in frame.columns if c != target])
    pipeline = build_pipeline(features, TrainConfig(model=model, hgb={"max_iter": 30}), task)
    x, y = frame[features.all], frame[target].to_numpy()
    return pipeline.fit(x, y), x, y


SETTINGS = EvaluateConfig(importance_repeats=2, scatter_points=50)


@pytest.mark.parametrize("model", ["logreg", "hgb"])
def test_multiclass_evaluation_end_to_end(model):
    fitted, x, y = _fit(_iris(), "species", "multiclass", model)
    result = evaluate("multiclass", fitted, x, y, SETTINGS)
    assert set(result.metrics) == {"accuracy", "f1_macro", "f1_weighted", "log_loss", "roc_auc_ovr"}
    assert result.metrics["accuracy"] > 0.9
    assert tuple(result.plots) == PLOT_FILES["multiclass"]
    top = result.plots["importance.json"][0]["feature"]
    assert top.startswith("petal")


def test_regression_evaluation_end_to_end():
    frame = load_diabetes(as_frame=True).frame
    fitted, x, y = _fit(frame, "target", "regression")
    result = evaluate("regression", fitted, x, y, SETTINGS)
    assert set(result.metrics) == {"rmse", "mae", "r2", "mape"}
    assert 0.3 < result.metrics["r2"] < 0.8
    assert tuple(result.plots) == PLOT_FILES["regression"]
    assert len(result.plots["predicted_vs_actual.json"]) == 50


def test_binary_evaluation_treats_text_labels_like_zero_one(churn_frame, config):
    frame = churn_frame.head(600)
    features = config.features
    pipeline = build_pipeline(features, config.train, "binary")
    x, y01 = frame[features.all], frame[config.data.target].to_numpy()
    numeric = evaluate("binary", pipeline.fit(x, y01), x, y01, SETTINGS)
    text = np.where(y01 == 1, "yes", "no")
    labelled = evaluate("binary", build_pipeline(features, config.train, "binary").fit(x, text), x, text, SETTINGS)
    assert tuple(numeric.plots) == PLOT_FILES["binary"]
    assert set(numeric.metrics) == {"roc_auc", "pr_auc", "f1", "precision", "recall", "accuracy", "log_loss", "brier"}
    assert labelled.metrics == numeric.metrics
    assert labelled.plots["roc.json"] == numeric.plots["roc.json"]
