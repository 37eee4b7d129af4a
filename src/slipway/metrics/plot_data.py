"""The evaluate stage's plot data: small JSON rows computed from the test split's truth and the model's output.

Every function takes ``(y, output, settings)`` like the metrics of ``slipway.metrics.weighted`` take theirs
(binary: 1/0 truth and the positive class's probability; multiclass: class indices and class probabilities;
regression: values and predictions) and returns a list of rows for ``outputs/plots/<file>.json``. The sizes are
bounded by ``settings`` whatever the number of test rows. scikit-learn is imported inside the functions, so naming
them (``slipway.tasks``) costs nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class PlotSettings:
    """What bounds the plot data (``evaluate`` in params.yaml) and the model's classes."""

    threshold: float = 0.5
    curve_points: int = 101
    calibration_bins: int = 10
    scatter_points: int = 500
    seed: int = 42
    classes: tuple[object, ...] = ()
    """The model's classes in its order: the labels of a multiclass confusion matrix."""


def _downsample(n: int, points: int) -> np.ndarray:
    """At most ``points`` indices spread evenly over ``range(n)``, always keeping both ends."""
    if n <= points:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, points).round().astype(int))


def _sample(n: int, points: int, seed: int) -> np.ndarray:
    """At most ``points`` row indices, seeded, in their original order."""
    if n <= points:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=points, replace=False))


def _plain(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value


def roc_points(y: np.ndarray, score: np.ndarray, settings: PlotSettings) -> Rows:
    """ROC curve, downsampled; thresholds clipped to [0, 1] (no Infinity in the JSON)."""
    from sklearn.metrics import roc_curve

    fpr, tpr, thresholds = roc_curve(y, score)
    keep = _downsample(len(fpr), settings.curve_points)
    thresholds = np.clip(np.where(np.isfinite(thresholds), thresholds, 1.0), 0.0, 1.0)
    return [
        {"fpr": round(float(fpr[i]), 5), "tpr": round(float(tpr[i]), 5), "threshold": round(float(thresholds[i]), 5)}
        for i in keep
    ]


def pr_points(y: np.ndarray, score: np.ndarray, settings: PlotSettings) -> Rows:
    """Precision-recall curve, downsampled."""
    from sklearn.metrics import precision_recall_curve

    precision, recall, _ = precision_recall_curve(y, score)
    keep = _downsample(len(precision), settings.curve_points)
    return [{"recall": round(float(recall[i]), 5), "precision": round(float(precision[i]), 5)} for i in keep]


def calibration_points(y: np.ndarray, score: np.ndarray, settings: PlotSettings) -> Rows:
    """Mean predicted probability vs observed rate per quantile bin."""
    from sklearn.calibration import calibration_curve

    observed, predicted = calibration_curve(y, score, n_bins=settings.calibration_bins, strategy="quantile")
    return [
        {"predicted": round(float(p), 5), "observed": round(float(o), 5)}
        for p, o in zip(predicted, observed, strict=True)
    ]


def _cells(matrix: np.ndarray, labels: Sequence[object]) -> Rows:
    return [
        {"actual": a, "predicted": p, "cell": f"actual {a} / predicted {p}", "count": int(matrix[i, j])}
        for i, a in enumerate(labels)
        for j, p in enumerate(labels)
    ]


def binary_confusion(y: np.ndarray, score: np.ndarray, settings: PlotSettings) -> Rows:
    """The four cells (actual/predicted 0 and 1 at the threshold) as counts."""
    from sklearn.metrics import confusion_matrix

    matrix = confusion_matrix(np.asarray(y).astype(int), (score >= settings.threshold).astype(int), labels=[0, 1])
    return _cells(matrix, [0, 1])


def class_confusion(y: np.ndarray, proba: np.ndarray, settings: PlotSettings) -> Rows:
    """Every (actual, predicted) cell as a count, labelled and ordered by the model's classes."""
    from sklearn.metrics import confusion_matrix

    k = proba.shape[1]
    matrix = confusion_matrix(np.asarray(y), np.argmax(proba, axis=1), labels=list(range(k)))
    labels = [_plain(c) for c in settings.classes] if len(settings.classes) == k else list(range(k))
    return _cells(matrix, labels)


def predicted_vs_actual(y: np.ndarray, predicted: np.ndarray, settings: PlotSettings) -> Rows:
    """A seeded sample of the test rows: actual against predicted value."""
    y, predicted = np.asarray(y, dtype=float), np.asarray(predicted, dtype=float)
    return [
        {"actual": round(float(y[i]), 6), "predicted": round(float(predicted[i]), 6)}
        for i in _sample(len(y), settings.scatter_points, settings.seed)
    ]


def residuals(y: np.ndarray, predicted: np.ndarray, settings: PlotSettings) -> Rows:
    """Residual (actual - predicted) against the prediction, on the same rows as :func:`predicted_vs_actual`."""
    y, predicted = np.asarray(y, dtype=float), np.asarray(predicted, dtype=float)
    return [
        {"predicted": round(float(predicted[i]), 6), "residual": round(float(y[i] - predicted[i]), 6)}
        for i in _sample(len(y), settings.scatter_points, settings.seed)
    ]
