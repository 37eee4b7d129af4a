"""Pick the metrics and plot data for the task in ``data.task``: binary, multiclass or regression.

The stage script calls :func:`evaluate` and writes what it returns; the binary output (metric names and plot
files) is the one the report and the gate have always read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from slipway.config import EvaluateConfig, Task
from slipway.pipeline.evaluation import binary as binary
from slipway.pipeline.evaluation import multiclass as multiclass
from slipway.pipeline.evaluation import regression as regression
from slipway.pipeline.evaluation.binary import Rows

PLOT_FILES: dict[str, tuple[str, ...]] = {
    "binary": ("roc.json", "precision_recall.json", "confusion.json", "calibration.json", "importance.json"),
    "multiclass": ("confusion.json", "importance.json"),
    "regression": ("predicted_vs_actual.json", "residuals.json", "importance.json"),
}
"""The plot data files each task writes under outputs/plots/."""


@dataclass(frozen=True)
class Evaluation:
    """Metrics for metrics.json and plot rows keyed by file name."""

    metrics: dict[str, float]
    plots: dict[str, Rows]


def _importance(model: Any, x: pd.DataFrame, y: np.ndarray, settings: EvaluateConfig, scoring: str) -> Rows:
    return binary.feature_importance(
        model, x, y, settings.importance_repeats, settings.importance_max_rows, settings.seed, scoring=scoring
    )


def evaluate_binary(model: Any, x: pd.DataFrame, y: np.ndarray, settings: EvaluateConfig) -> Evaluation:
    """The positive class is the model's second class (1 for 0/1 targets, the later label for strings)."""
    positive = model.classes_[1]
    proba = model.predict_proba(x)[:, 1]
    y01 = (np.asarray(y) == positive).astype(int)
    plots = {
        "roc.json": binary.roc_points(y01, proba, settings.curve_points),
        "precision_recall.json": binary.pr_points(y01, proba, settings.curve_points),
        "confusion.json": binary.confusion_counts(y01, proba, settings.threshold),
        "calibration.json": binary.calibration_points(y01, proba, settings.calibration_bins),
        "importance.json": _importance(model, x, y, settings, "roc_auc"),
    }
    return Evaluation(binary.binary_metrics(y01, proba, settings.threshold), plots)


def evaluate_multiclass(model: Any, x: pd.DataFrame, y: np.ndarray, settings: EvaluateConfig) -> Evaluation:
    classes = np.asarray(model.classes_)
    proba = model.predict_proba(x)
    predicted = classes[np.argmax(proba, axis=1)]
    plots = {
        "confusion.json": multiclass.confusion_counts(y, predicted, classes),
        "importance.json": _importance(model, x, y, settings, multiclass.IMPORTANCE_SCORING),
    }
    return Evaluation(multiclass.multiclass_metrics(y, proba, classes), plots)


def evaluate_regression(model: Any, x: pd.DataFrame, y: np.ndarray, settings: EvaluateConfig) -> Evaluation:
    predicted = np.asarray(model.predict(x), dtype=float)
    points, seed = settings.scatter_points, settings.seed
    plots = {
        "predicted_vs_actual.json": regression.predicted_vs_actual(y, predicted, points, seed),
        "residuals.json": regression.residual_points(y, predicted, points, seed),
        "importance.json": _importance(model, x, y, settings, regression.IMPORTANCE_SCORING),
    }
    return Evaluation(regression.regression_metrics(y, predicted), plots)


EVALUATORS = {"binary": evaluate_binary, "multiclass": evaluate_multiclass, "regression": evaluate_regression}


def evaluate(task: Task, model: Any, x: pd.DataFrame, y: np.ndarray, settings: EvaluateConfig) -> Evaluation:
    """Metrics and plot data of a fitted model on held-out rows, for the given task."""
    return EVALUATORS[task](model, x, y, settings)
