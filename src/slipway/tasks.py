"""One table per task (binary, multiclass, regression): what is measured, which way is better, and the defaults.

Everything that depends on ``data.task`` reads it from here: the evaluate stage (metrics, their intervals, plot
files and their data), the report (how each plot is drawn), the quality gate (directions, default regression
limits), ``slipway adopt`` (dvc.yaml plots, gate floors and KPI bounds) and the config (KPI names). Adding a metric
or a plot to a task is one entry below. A metric is computed by its ``compute`` function under row weights
(``slipway.metrics.weighted``), so the same arithmetic gives the test-split value and its bootstrap interval.

Model outputs per task: binary, the positive class's probability (n) with the truth as 1/0; multiclass, class
probabilities (n x k) with the truth as class indices; regression, predicted values (n).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Literal

import numpy as np

from slipway.metrics import plot_data, weighted
from slipway.metrics.plot_data import PlotSettings, Rows

Task = Literal["binary", "multiclass", "regression"]
WeightedMetric = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
PlotKind = Literal["curve", "confusion", "scatter", "bars"]
"""How the report draws a plot: a line in the unit square, count matrices side by side, a point cloud, or
horizontal bars (one per ``y`` label, sorted by the ``x`` value)."""
PlotData = Callable[[np.ndarray, np.ndarray, PlotSettings], Rows]
Baseline = Callable[[float], float]
"""A default limit from a table's trivial baseline (``slipway adopt``): the positive class's share (binary), the
majority class's share (multiclass) or the target's standard deviation (regression)."""
MAPE_MIN_RELATIVE = 1e-3
"""MAPE is reported only when every |actual| is at least this fraction of the mean |actual| (no near-zero targets)."""


def _always(y: np.ndarray, output: np.ndarray) -> bool:
    return True


def every_class_present(y: np.ndarray, proba: np.ndarray) -> bool:
    """More than two classes, each in the truth: the one-vs-rest ROC AUC is undefined otherwise."""
    classes = proba.shape[1]
    return classes > 2 and set(np.unique(y).tolist()) == set(range(classes))


def mape_is_safe(y: np.ndarray, predicted: np.ndarray | None = None) -> bool:
    """True when no actual value is (close to) zero, so percentage errors stay meaningful."""
    magnitude = np.abs(np.asarray(y, dtype=float))
    return bool(magnitude.size and magnitude.mean() > 0 and magnitude.min() >= MAPE_MIN_RELATIVE * magnitude.mean())


def chance(value: float) -> Baseline:
    """A limit that does not depend on the table (a random ranking's ROC AUC, a constant's R²)."""
    return lambda _baseline: value


def share(baseline: float) -> float:
    """A class share rounded down to two decimals."""
    return math.floor(baseline * 100) / 100


def spread(baseline: float) -> float:
    """A standard deviation to three significant digits."""
    return float(f"{baseline:.3g}")


@dataclass(frozen=True)
class Metric:
    """One metric: its name in metrics.json, its direction, and its arithmetic under row weights."""

    name: str
    compute: Callable[..., np.ndarray]
    lower_is_better: bool = False
    at_threshold: bool = False
    """Binary metrics of the thresholded prediction take ``evaluate.threshold``."""
    reported: Callable[[np.ndarray, np.ndarray], bool] = _always
    """``(y, output) -> bool``: whether the metric is defined on these test rows (left out of metrics.json if not)."""

    def function(self, threshold: float) -> WeightedMetric:
        """``(y, output, weights) -> values``, the threshold bound where the metric needs one."""
        return partial(self.compute, threshold=threshold) if self.at_threshold else self.compute


@dataclass(frozen=True)
class Plot:
    """One plot of the evaluate stage: its data file, how dvc.yaml declares it, how the report draws it."""

    file: str
    """Under outputs/plots/, e.g. ``roc.json``."""
    title: str
    template: str
    """The DVC plot template (``dvc plots show``)."""
    x: str
    y: str
    kind: PlotKind
    data: PlotData | None = None
    """``(y, output, settings) -> rows``; None for permutation importance, which needs the model (evaluate stage)."""
    guide: Literal["diagonal", "zero"] | None = None
    """A reference line the report draws: y = x (a random ranking, perfect calibration or prediction), or y = 0."""

    @property
    def name(self) -> str:
        """The file's stem: the report's image name."""
        return Path(self.file).stem

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
    floors: dict[str, Baseline] = field(default_factory=dict)
    """``slipway adopt``'s gate minimums, at a trivial model's value."""
    kpis: tuple[str, ...] = ()
    """Production KPIs the monitor computes once labels arrive."""
    kpi_bounds: dict[str, dict[Literal["min", "max"], Baseline]] = field(default_factory=dict)
    """``slipway adopt``'s ``monitor.kpis`` bounds, at a trivial model's value."""

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

    def reported(self, y: np.ndarray, output: np.ndarray) -> tuple[Metric, ...]:
        """The metrics defined on these test rows, in the table's order (the keys of metrics.json)."""
        return tuple(m for m in self.metrics if m.reported(y, output))


def curve(file: str, title: str, x: str, y: str, data: PlotData, guide: Literal["diagonal"] | None = None) -> Plot:
    """A line in the unit square (DVC's ``simple`` template)."""
    return Plot(file, title, "simple", x, y, "curve", data, guide)


def scatter(file: str, title: str, x: str, y: str, data: PlotData, guide: Literal["diagonal", "zero"]) -> Plot:
    return Plot(file, title, "scatter", x, y, "scatter", data, guide)


def confusion(data: PlotData) -> Plot:
    """Counts per (actual, predicted) cell; DVC shows them as bars, the report as matrices."""
    return Plot("confusion.json", "Confusion matrix (counts)", "bar_horizontal", "count", "cell", "confusion", data)


def importance(score: str) -> Plot:
    """Permutation importance: the drop in ``score`` when a feature's values are shuffled (computed from the model)."""
    title = f"Permutation importance ({score} drop)"
    return Plot("importance.json", title, "bar_horizontal_sorted", "importance", "feature", "bars")


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
            curve("roc.json", "ROC curve", "fpr", "tpr", plot_data.roc_points, guide="diagonal"),
            curve("precision_recall.json", "Precision-recall curve", "recall", "precision", plot_data.pr_points),
            curve("calibration.json", "Calibration", "predicted", "observed", plot_data.calibration_points, "diagonal"),
            confusion(plot_data.binary_confusion),
            importance("ROC AUC"),
        ),
        importance_scoring="roc_auc",
        max_regression={"roc_auc": 0.01, "pr_auc": 0.02, "f1": 0.03, "log_loss": 0.02, "brier": 0.01},
        floors={"roc_auc": chance(0.5), "pr_auc": share},
        kpis=("roc_auc", "precision", "recall", "positive_rate"),
        kpi_bounds={"roc_auc": {"min": chance(0.5)}},
    ),
    "multiclass": TaskSpec(
        name="multiclass",
        metrics=(
            Metric("accuracy", weighted.multiclass_accuracy),
            Metric("f1_macro", weighted.f1_macro),
            Metric("f1_weighted", weighted.f1_weighted),
            Metric("log_loss", weighted.multiclass_log_loss, lower_is_better=True),
            Metric("roc_auc_ovr", weighted.roc_auc_ovr, reported=every_class_present),
        ),
        plots=(confusion(plot_data.class_confusion), importance("macro F1")),
        importance_scoring="f1_macro",
        max_regression={"accuracy": 0.02, "f1_macro": 0.03, "log_loss": 0.05},
        floors={"accuracy": share},
        kpis=("accuracy", "f1_macro"),
        kpi_bounds={"accuracy": {"min": share}},
    ),
    "regression": TaskSpec(
        name="regression",
        metrics=(
            Metric("rmse", weighted.rmse, lower_is_better=True),
            Metric("mae", weighted.mae, lower_is_better=True),
            Metric("r2", weighted.r2),
            Metric("mape", weighted.mape, lower_is_better=True, reported=mape_is_safe),
        ),
        plots=(
            scatter(
                "predicted_vs_actual.json",
                "Predicted vs actual",
                "actual",
                "predicted",
                plot_data.predicted_vs_actual,
                guide="diagonal",
            ),
            scatter("residuals.json", "Residuals", "predicted", "residual", plot_data.residuals, guide="zero"),
            importance("R2"),
        ),
        importance_scoring="r2",
        max_regression={"r2": 0.02},
        floors={"r2": chance(0.0)},
        kpis=("rmse", "mae"),
        kpi_bounds={"rmse": {"max": spread}},
    ),
}


def task_spec(task: str) -> TaskSpec:
    return TASKS[task]
