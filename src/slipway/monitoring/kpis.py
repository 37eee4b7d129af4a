"""Production KPIs of a window, for every task from one function (``measure_kpis``), each checked against its
configured bounds and given a bootstrap interval.

The KPIs of a task are ``slipway.tasks.TASKS[task].kpis``; their arithmetic is the task's metric under row weights
(``slipway.metrics.weighted``), so a KPI in production is computed exactly like the metric of the same name on the
test split, and ``slipway.metrics.bootstrap.interval`` gives its interval. ``positive_rate`` (binary: the share of
predictions at or above the threshold) needs no labels; every other KPI needs ``monitor.min_labels`` labelled rows.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from slipway.config import KpiBound, MonitorConfig
from slipway.metrics import weighted
from slipway.metrics.bootstrap import Bootstrap, Interval, interval
from slipway.tasks import TASKS

WITHOUT_LABELS = ("positive_rate",)
"""KPIs of the predictions alone."""


@dataclass(frozen=True)
class Kpi:
    name: str
    value: float | None
    bound: KpiBound | None
    rows: int
    breached: bool
    interval: Interval | None = None
    """Bootstrap percentile interval (``Bootstrap().level``, 95 %) of the value over the window's rows."""


@dataclass(frozen=True)
class Outcomes:
    """A window's model outputs and ground truth in the task's arithmetic form (``slipway.tasks``)."""

    truth: np.ndarray
    """Binary 0/1 and regression values (NaN: no label yet); multiclass class indices (-1: no label yet)."""
    output: np.ndarray
    """Binary scores, regression values (n); multiclass one-hot of the served class (n x k)."""
    scored: np.ndarray
    labelled: np.ndarray


def class_text(value: Any) -> str | None:
    """A class as text, so that 2, 2.0 and "2" (JSON, Parquet and CSV spell them differently) compare equal."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)) or value is pd.NA:
        return None
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value.item() if hasattr(value, "item") else value)


def _column(window: pd.DataFrame, name: str) -> pd.Series:
    return window[name] if name in window.columns else pd.Series(np.nan, index=window.index)


def task_outcomes(window: pd.DataFrame, task: str, score: str = "prediction", truth: str = "actual") -> Outcomes:
    """Outputs and truth of a window: the served ``label`` for multiclass, the ``score`` column otherwise."""
    if task == "multiclass":
        served = _column(window, "label").map(class_text)
        actual = _column(window, truth).map(class_text)
        classes = sorted(set(served.dropna()) | set(actual.dropna()))
        index = {name: i for i, name in enumerate(classes)}
        served_index = served.map(index).fillna(-1).to_numpy(dtype=int)
        truth_index = actual.map(index).fillna(-1).to_numpy(dtype=int)
        one_hot = np.zeros((len(window), max(len(classes), 1)))
        one_hot[np.flatnonzero(served_index >= 0), served_index[served_index >= 0]] = 1.0
        scored = served_index >= 0
        return Outcomes(truth_index, one_hot, scored, scored & (truth_index >= 0))
    scores = pd.to_numeric(_column(window, score), errors="coerce").to_numpy(dtype=float)
    values = pd.to_numeric(_column(window, truth), errors="coerce").to_numpy(dtype=float)
    scored = np.isfinite(scores)
    return Outcomes(values, scores, scored, scored & np.isfinite(values))


Arithmetic = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def kpi_arithmetic(task: str, name: str, threshold: float) -> Arithmetic:
    """``(y, output, weights) -> values`` of a KPI: the task's metric of that name, or ``positive_rate``."""
    if name == "positive_rate":
        return partial(weighted.positive_rate, threshold=threshold)
    return TASKS[task].metric(name).function(threshold)


def _check(name: str, value: float | None, bound: KpiBound | None, rows: int, spread: Interval | None) -> Kpi:
    breached = False
    if value is not None and bound is not None:
        breached = (bound.min is not None and value < bound.min) or (bound.max is not None and value > bound.max)
    return Kpi(name, None if value is None else round(value, 6), bound, rows, breached, spread)


def measure_kpis(
    outcomes: Outcomes,
    task: str,
    threshold: float,
    settings: MonitorConfig,
    intervals: Collection[str] = (),
    bootstrap: Bootstrap | None = None,
) -> tuple[list[Kpi], list[str]]:
    """The task's KPIs on a window's outcomes (``task_outcomes``; those that need labels only where enough rows are
    labelled), with a bootstrap interval for the names in ``intervals``; returns the KPIs and notes on what was not
    evaluated and why."""
    if not outcomes.scored.any():
        return [], ["no served predictions in the window: KPIs not computed"]
    notes: list[str] = []
    labelled = int(outcomes.labelled.sum())
    needing = [name for name in TASKS[task].kpis if name not in WITHOUT_LABELS]
    if needing and labelled < settings.min_labels:
        notes.append(
            f"{labelled} labelled predictions in the window (< monitor.min_labels={settings.min_labels}): "
            f"{', '.join(needing)} not evaluated"
        )
    kpis = []
    for name in TASKS[task].kpis:
        rows = outcomes.scored if name in WITHOUT_LABELS else outcomes.labelled
        if name not in WITHOUT_LABELS and labelled < settings.min_labels:
            continue
        metric = kpi_arithmetic(task, name, threshold)
        y, output = outcomes.truth[rows], outcomes.output[rows]
        value = float(metric(y, output, np.ones(len(y)))[0])
        if not np.isfinite(value):
            notes.append(f"{name} is undefined on this window (e.g. labels of one class only): not evaluated")
            continue
        spread = interval(metric, y, output, bootstrap or Bootstrap()) if name in intervals else None
        kpis.append(_check(name, value, settings.kpis.get(name), len(y), spread))
    return kpis, notes
