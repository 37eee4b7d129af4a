"""Metrics and small plot data for a binary classifier, and helpers shared by every task.

Pure functions: arrays in, plain data out. Multiclass and regression live in ``evaluation_multiclass`` and
``evaluation_regression``; ``evaluation_tasks`` picks the right set for ``data.task``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.inspection import permutation_importance
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    brier_score_loss,
    confusion_matrix,
    f1_score,
    log_loss,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)

Rows = list[dict[str, Any]]


def binary_metrics(y_true: np.ndarray, proba: np.ndarray, threshold: float) -> dict[str, float]:
    """Ranking, threshold and probability-quality metrics, rounded for stable diffs."""
    predicted = (proba >= threshold).astype(int)
    metrics = {
        "roc_auc": roc_auc_score(y_true, proba),
        "pr_auc": average_precision_score(y_true, proba),
        "f1": f1_score(y_true, predicted, zero_division=0),
        "precision": precision_score(y_true, predicted, zero_division=0),
        "recall": recall_score(y_true, predicted, zero_division=0),
        "accuracy": accuracy_score(y_true, predicted),
        "log_loss": log_loss(y_true, np.clip(proba, 1e-15, 1 - 1e-15), labels=[0, 1]),
        "brier": brier_score_loss(y_true, proba),
    }
    return {name: round(float(value), 6) for name, value in metrics.items()}


def _downsample(n: int, points: int) -> np.ndarray:
    """At most ``points`` indices spread evenly over ``range(n)``, always keeping both ends."""
    if n <= points:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, points).round().astype(int))


def _finite(values: np.ndarray, fill: float) -> np.ndarray:
    return np.where(np.isfinite(values), values, fill)


def roc_points(y_true: np.ndarray, proba: np.ndarray, points: int) -> Rows:
    """ROC curve, downsampled; thresholds clipped to [0, 1] (no Infinity in the JSON)."""
    fpr, tpr, thresholds = roc_curve(y_true, proba)
    keep = _downsample(len(fpr), points)
    thresholds = np.clip(_finite(thresholds, 1.0), 0.0, 1.0)
    return [
        {
            "fpr": round(float(fpr[i]), 5),
            "tpr": round(float(tpr[i]), 5),
            "threshold": round(float(thresholds[i]), 5),
        }
        for i in keep
    ]


def pr_points(y_true: np.ndarray, proba: np.ndarray, points: int) -> Rows:
    """Precision-recall curve, downsampled."""
    precision, recall, _ = precision_recall_curve(y_true, proba)
    keep = _downsample(len(precision), points)
    return [{"recall": round(float(recall[i]), 5), "precision": round(float(precision[i]), 5)} for i in keep]


def confusion_counts(y_true: np.ndarray, proba: np.ndarray, threshold: float) -> Rows:
    """The four cells as counts (size independent of the data)."""
    matrix = confusion_matrix(y_true, (proba >= threshold).astype(int), labels=[0, 1])
    return [
        {
            "actual": int(a),
            "predicted": int(p),
            "cell": f"actual {a} / predicted {p}",
            "count": int(matrix[a, p]),
        }
        for a in (0, 1)
        for p in (0, 1)
    ]


def calibration_points(y_true: np.ndarray, proba: np.ndarray, bins: int) -> Rows:
    """Mean predicted probability vs observed rate per quantile bin."""
    observed, predicted = calibration_curve(y_true, proba, n_bins=bins, strategy="quantile")
    return [
        {"predicted": round(float(p), 5), "observed": round(float(o), 5)}
        for p, o in zip(predicted, observed, strict=True)
    ]


def feature_importance(
    model: Any, x: pd.DataFrame, y: np.ndarray, repeats: int, max_rows: int, seed: int, scoring: str = "roc_auc"
) -> Rows:
    """Permutation importance (drop in ``scoring``) per raw feature on at most ``max_rows`` rows, largest first."""
    if len(x) > max_rows:
        rows = np.sort(np.random.default_rng(seed).choice(len(x), size=max_rows, replace=False))
        x, y = x.iloc[rows], np.asarray(y)[rows]
    result = permutation_importance(model, x, y, scoring=scoring, n_repeats=repeats, random_state=seed)
    rows = [
        {"feature": name, "importance": round(float(mean), 6), "std": round(float(std), 6)}
        for name, mean, std in zip(x.columns, result.importances_mean, result.importances_std, strict=True)
    ]
    return sorted(rows, key=lambda row: -row["importance"])
