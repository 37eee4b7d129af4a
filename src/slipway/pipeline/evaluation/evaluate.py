"""The evaluate stage's computations for the task in ``data.task``, all read from its entry in ``slipway.tasks``:
per-row predictions, metrics (and their bootstrap intervals) and plot data."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from slipway.config import EvaluateConfig
from slipway.metrics.bootstrap import Bootstrap, intervals
from slipway.metrics.plot_data import PlotSettings, Rows
from slipway.pipeline.evaluation.importance import feature_importance
from slipway.pipeline.evaluation.predictions import metric_inputs, predictions_frame
from slipway.tasks import Task, TaskSpec, task_spec

DECIMALS = 6
"""metrics.json and intervals.json round to this many decimals, for stable diffs."""


@dataclass(frozen=True)
class Evaluation:
    """metrics.json, plot rows keyed by file name, the per-row predictions and intervals.json."""

    metrics: dict[str, float]
    plots: dict[str, Rows]
    predictions: pd.DataFrame
    intervals: dict[str, Any]


def _rounded(value: float) -> float:
    return round(float(value), DECIMALS)


def metric_values(spec: TaskSpec, y: np.ndarray, output: np.ndarray, threshold: float) -> dict[str, float]:
    """The task's metrics defined on these rows (unit weights), rounded; the content of metrics.json."""
    ones = np.ones(len(y))
    return {m.name: _rounded(m.function(threshold)(y, output, ones)[0]) for m in spec.reported(y, output)}


def metric_intervals(
    spec: TaskSpec, y: np.ndarray, output: np.ndarray, threshold: float, settings: Bootstrap
) -> dict[str, Any]:
    """Each reported metric with its percentile bootstrap interval (null where no resample defines it)."""
    values = metric_values(spec, y, output, threshold)
    reported = spec.reported(y, output)
    found = intervals([metric.function(threshold) for metric in reported], y, output, settings)
    bounds = {}
    for metric, ci in zip(reported, found, strict=True):
        low, high = (_rounded(v) if math.isfinite(v) else None for v in (ci.low, ci.high))
        bounds[metric.name] = {"value": values[metric.name], "low": low, "high": high}
    return {
        "level": settings.level,
        "resamples": settings.resamples,
        "seed": settings.seed,
        "max_rows": settings.max_rows,
        "rows": len(y),
        "metrics": bounds,
    }


def _bootstrap(settings: EvaluateConfig) -> Bootstrap:
    configured = settings.bootstrap
    return Bootstrap(configured.resamples, configured.level, configured.seed, configured.max_rows)


def plot_settings(settings: EvaluateConfig, classes: tuple[object, ...] = ()) -> PlotSettings:
    return PlotSettings(
        threshold=settings.threshold,
        curve_points=settings.curve_points,
        calibration_bins=settings.calibration_bins,
        scatter_points=settings.scatter_points,
        seed=settings.seed,
        classes=classes,
    )


def evaluate(
    task: Task, model: Any, x: pd.DataFrame, label: np.ndarray, settings: EvaluateConfig, ids: np.ndarray | None = None
) -> Evaluation:
    """Predictions, metrics, intervals and plot data of a fitted model on held-out rows, for the given task.

    The bootstrap intervals (numpy arithmetic, which releases the GIL) are computed in a thread beside the plot data
    and the permutation importance (mostly scikit-learn's Python): each is seeded on its own, so the results are the
    same as one after the other."""
    spec = task_spec(task)
    frame = predictions_frame(task, model, x, label, ids)
    y, output = metric_inputs(frame, task)
    with ThreadPoolExecutor(1) as beside:
        bounds = beside.submit(metric_intervals, spec, y, output, settings.threshold, _bootstrap(settings))
        plots = _plot_data(spec, model, x, label, y, output, settings)
        found = bounds.result()
    metrics = {name: bound["value"] for name, bound in found["metrics"].items()}  # metric_values, computed there
    return Evaluation(metrics=metrics, plots=plots, predictions=frame, intervals=found)


def _plot_data(
    spec: TaskSpec, model: Any, x: pd.DataFrame, label: np.ndarray, y: np.ndarray, output: np.ndarray,
    settings: EvaluateConfig,
) -> dict[str, Rows]:  # fmt: skip
    """Each of the task's plot data files: from the scored rows, or the model's permutation importance."""
    draw = plot_settings(settings, tuple(getattr(model, "classes_", ())))
    plots = {}
    for plot in spec.plots:
        if plot.data is not None:
            plots[plot.file] = plot.data(y, output, draw)
        else:
            plots[plot.file] = feature_importance(
                model, x, label, settings.importance_repeats, settings.importance_max_rows, settings.seed,
                scoring=spec.importance_scoring,
            )  # fmt: skip
    return plots
