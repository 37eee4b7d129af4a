"""One table per task (binary, multiclass, regression): what is measured, which way is better, and the defaults.

Everything that depends on ``data.task`` reads it from here: the evaluate stage (metrics, plot files), the quality
gate (directions, default regression limits), the report, ``slipway adopt`` (dvc.yaml plots, gate and KPI defaults)
and monitoring (KPIs). A metric is computed by its ``compute`` function under row weights
(``slipway.metrics.weighted``), so the same arithmetic gives the test-split value and its bootstrap interval.

Model outputs per task: binary, the positive class's probability (n); multiclass, class probabilities (n x k) with
the truth as class indices; regression, predicted values (n).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Literal

import numpy as np

from slipway.metrics import weighted

Task = Literal["binary", "multiclass", "regression"]
WeightedMetric = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Metric:
    """One metric: its name in metrics.json, its direction, and its arithmetic under row weights."""

    name: str
    compute: Callable[..., np.ndarray]
    lower_is_better: bool = False
    at_threshold: bool = False
    """Binary metrics of the thresholded prediction take ``evaluate.threshold``."""

    def function(self, threshold: float) -> WeightedMetric:
        """``(y, output, weights) -> values``, the threshold bound where the metric needs one."""
        return partial(self.compute, threshold=threshold) if self.at_threshold else self.compute


@dataclass(frozen=True)
class Plot:
    """One plot data file of the evaluate stage and how dvc.yaml declares it."""

    file: str
    """Under outputs/plots/, e.g. ``roc.json``."""
    title: str
    template: str
    x: str
    y: str

    def dvc_declaration(self, folder: str = "outputs/plots") -> dict[str, dict[str, object]]:
        return {self.title: {"template": self.template, "x": self.x, "y": {f"{folder}/{self.file}": self.y}}}


@dataclass(frozen=True)
class TaskSpec:
    name: Task
    metrics: tuple[Metric, ...]
    plots: tuple[Plot, ...]
    importance_scoring: str
    """scikit-learn scorer for permutation importance."""
    max_regression: dict[str, float] = field(default_factory=dict)
    """Default quality-gate limits: the largest allowed change for the worse, in the metric's units."""
    floor_metric: str = ""
    """The metric ``slipway adopt`` gives a floor at a trivial baseline."""
    kpis: tuple[str, ...] = ()
    """Production KPIs the monitor computes once labels arrive."""

    @property
    def lower_is_better(self) -> list[str]:
        return [m.name for m in self.metrics if m.lower_is_better]

    def metric(self, name: str) -> Metric:
        for metric in self.metrics:
            if metric.name == name:
                return metric
        raise KeyError(f"{self.name} task has no metric {name!r} (metrics: {', '.join(self.metric_names)})")

    @property
    def metric_names(self) -> list[str]:
        return [m.name for m in self.metrics]


IMPORTANCE = Plot("importance.json", "Permutation importance", "bar_horizontal_sorted", "importance", "feature")
CONFUSION = Plot("confusion.json", "Confusion matrix (counts)", "bar_horizontal", "count", "cell")

TASKS: dict[str, TaskSpec] = {
    "binary": TaskSpec(
        name="binary",
        metrics=(
            Metric("roc_auc", weighted.roc_auc),
            Metric("pr_auc", weighted.average_precision),
            Metric("f1", weighted.f1, at_threshold=True),
            Metric("precision", weighted.precision, at_threshold=True),
            Metric("recall", weighted.recall, at_threshold=True),
            Metric("accuracy", weighted.binary_accuracy, at_threshold=True),
            Metric("log_loss", weighted.binary_log_loss, lower_is_better=True),
            Metric("brier", weighted.brier, lower_is_better=True),
        ),
        plots=(
            Plot("roc.json", "ROC curve", "simple", "fpr", "tpr"),
            Plot("precision_recall.json", "Precision-recall curve", "simple", "recall", "precision"),
            Plot("calibration.json", "Calibration", "simple", "predicted", "observed"),
            CONFUSION,
            IMPORTANCE,
        ),
        importance_scoring="roc_auc",
        max_regression={"roc_auc": 0.01, "pr_auc": 0.02, "f1": 0.03, "log_loss": 0.02, "brier": 0.01},
        floor_metric="roc_auc",
        kpis=("roc_auc", "precision", "recall", "positive_rate"),
    ),
    "multiclass": TaskSpec(
        name="multiclass",
        metrics=(
            Metric("accuracy", weighted.multiclass_accuracy),
            Metric("f1_macro", weighted.f1_macro),
            Metric("f1_weighted", weighted.f1_weighted),
            Metric("log_loss", weighted.multiclass_log_loss, lower_is_better=True),
            Metric("roc_auc_ovr", weighted.roc_auc_ovr),
        ),
        plots=(CONFUSION, IMPORTANCE),
        importance_scoring="f1_macro",
        max_regression={"accuracy": 0.02, "f1_macro": 0.03, "log_loss": 0.05},
        floor_metric="accuracy",
        kpis=("accuracy", "f1_macro"),
    ),
    "regression": TaskSpec(
        name="regression",
        metrics=(
            Metric("rmse", weighted.rmse, lower_is_better=True),
            Metric("mae", weighted.mae, lower_is_better=True),
            Metric("r2", weighted.r2),
            Metric("mape", weighted.mape, lower_is_better=True),
        ),
        plots=(
            Plot("predicted_vs_actual.json", "Predicted vs actual", "scatter", "actual", "predicted"),
            Plot("residuals.json", "Residuals", "scatter", "predicted", "residual"),
            IMPORTANCE,
        ),
        importance_scoring="r2",
        max_regression={"r2": 0.02},
        floor_metric="r2",
        kpis=("rmse", "mae"),
    ),
}


def task_spec(task: str) -> TaskSpec:
    return TASKS[task]
