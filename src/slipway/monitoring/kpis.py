"""Production KPIs where labels have arrived, by task, each checked against its configured bounds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import (
    f1_score,
    mean_absolute_error,
    precision_score,
    recall_score,
    roc_auc_score,
    root_mean_squared_error,
)

from slipway.config import KpiBound, MonitorConfig


@dataclass(frozen=True)
class Kpi:
    name: str
    value: float | None
    bound: KpiBound | None
    rows: int
    breached: bool
    note: str = ""


def _check(name: str, value: float | None, bound: KpiBound | None, rows: int, note: str = "") -> Kpi:
    breached = False
    if value is not None and bound is not None:
        breached = (bound.min is not None and value < bound.min) or (bound.max is not None and value > bound.max)
    return Kpi(name, None if value is None else round(value, 6), bound, rows, breached, note)


def compute_kpis(
    scores: np.ndarray, labels: np.ndarray, threshold: float, settings: MonitorConfig
) -> tuple[list[Kpi], list[str]]:
    """Binary KPIs: positive rate on every scored prediction; ROC AUC, precision and recall where labels arrived.

    ``labels`` holds NaN for predictions without a label yet. Returns the KPIs and notes on what was skipped.
    """
    bounds = settings.kpis
    notes: list[str] = []
    scores = np.asarray(scores, float)
    labels = np.asarray(labels, float)
    scored = np.isfinite(scores)
    kpis = []
    if scored.sum() == 0:
        notes.append("no prediction scores in the window: KPIs not computed")
        return kpis, notes
    positive = scores[scored] >= threshold
    kpis.append(_check("positive_rate", float(positive.mean()), bounds.get("positive_rate"), int(scored.sum())))
    labelled = scored & np.isfinite(labels)
    n = int(labelled.sum())
    if n < settings.min_labels:
        notes.append(
            f"{n} labelled predictions in the window (< monitor.min_labels={settings.min_labels}): "
            "ROC AUC, precision and recall not evaluated"
        )
        return kpis, notes
    y, s = labels[labelled].astype(int), scores[labelled]
    if len(np.unique(y)) < 2:
        notes.append(f"labels in the window are all {y[0]}: ROC AUC not evaluated")
        auc = None
    else:
        auc = float(roc_auc_score(y, s))
    kpis.append(_check("roc_auc", auc, bounds.get("roc_auc"), n))
    predicted = (s >= threshold).astype(int)
    kpis.append(_check("precision", float(precision_score(y, predicted, zero_division=0)), bounds.get("precision"), n))
    kpis.append(_check("recall", float(recall_score(y, predicted, zero_division=0)), bounds.get("recall"), n))
    kpis.append(_check("label_rate", float(y.mean()), None, n, "observed share of positives (information)"))
    return kpis, notes


def _class_text(value: Any) -> str | None:
    """A class as text, so that 2, 2.0 and "2" (JSON, Parquet and CSV spell them differently) compare equal."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)) or value is pd.NA:
        return None
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value.item() if hasattr(value, "item") else value)


def _enough_labels(n: int, settings: MonitorConfig, what: str) -> list[str]:
    if n >= settings.min_labels:
        return []
    return [
        f"{n} labelled predictions in the window (< monitor.min_labels={settings.min_labels}): {what} not evaluated"
    ]


def multiclass_kpis(predicted: pd.Series, actual: pd.Series, settings: MonitorConfig) -> tuple[list[Kpi], list[str]]:
    """Accuracy and macro F1 of the served labels where the true class has arrived (None where not)."""
    pairs = pd.DataFrame({"predicted": predicted, "actual": actual}).dropna()
    n = len(pairs)
    notes = _enough_labels(n, settings, "accuracy and macro F1")
    if notes:
        return [], notes
    bounds = settings.kpis
    accuracy = float((pairs["predicted"] == pairs["actual"]).mean())
    f1 = float(f1_score(pairs["actual"], pairs["predicted"], average="macro", zero_division=0))
    return [
        _check("accuracy", accuracy, bounds.get("accuracy"), n),
        _check("f1_macro", f1, bounds.get("f1_macro"), n),
    ], []


def regression_kpis(predicted: np.ndarray, actual: np.ndarray, settings: MonitorConfig) -> tuple[list[Kpi], list[str]]:
    """RMSE and MAE of the served values where the true value has arrived."""
    predicted, actual = np.asarray(predicted, float), np.asarray(actual, float)
    known = np.isfinite(predicted) & np.isfinite(actual)
    n = int(known.sum())
    notes = _enough_labels(n, settings, "RMSE and MAE")
    if notes:
        return [], notes
    bounds, y, v = settings.kpis, actual[known], predicted[known]
    rmse = float(root_mean_squared_error(y, v))
    mae = float(mean_absolute_error(y, v))
    return [_check("rmse", rmse, bounds.get("rmse"), n), _check("mae", mae, bounds.get("mae"), n)], []
