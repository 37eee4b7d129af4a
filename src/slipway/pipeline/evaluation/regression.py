"""Metrics and plot data for a regressor. Pure functions: arrays in, plain data out."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import mean_absolute_error, mean_absolute_percentage_error, mean_squared_error, r2_score

from slipway.pipeline.evaluation.binary import Rows

IMPORTANCE_SCORING = "r2"
MAPE_MIN_RELATIVE = 1e-3
"""MAPE is reported only when every |actual| is at least this fraction of the mean |actual| (no near-zero targets)."""


def mape_is_safe(y_true: np.ndarray) -> bool:
    """True when no actual value is (close to) zero, so percentage errors stay meaningful."""
    magnitude = np.abs(np.asarray(y_true, dtype=float))
    return bool(magnitude.size and magnitude.mean() > 0 and magnitude.min() >= MAPE_MIN_RELATIVE * magnitude.mean())


def regression_metrics(y_true: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """RMSE, MAE, R² (and MAPE when it is safe), rounded for stable diffs."""
    metrics = {
        "rmse": float(np.sqrt(mean_squared_error(y_true, predicted))),
        "mae": mean_absolute_error(y_true, predicted),
        "r2": r2_score(y_true, predicted),
    }
    if mape_is_safe(y_true):
        metrics["mape"] = mean_absolute_percentage_error(y_true, predicted)
    return {name: round(float(value), 6) for name, value in metrics.items()}


def _sample(n: int, points: int, seed: int) -> np.ndarray:
    """At most ``points`` row indices, seeded, in their original order."""
    if n <= points:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=points, replace=False))


def predicted_vs_actual(y_true: np.ndarray, predicted: np.ndarray, points: int, seed: int) -> Rows:
    """A downsampled scatter of actual against predicted values."""
    y_true, predicted = np.asarray(y_true, dtype=float), np.asarray(predicted, dtype=float)
    return [
        {"actual": round(float(y_true[i]), 6), "predicted": round(float(predicted[i]), 6)}
        for i in _sample(len(y_true), points, seed)
    ]


def residual_points(y_true: np.ndarray, predicted: np.ndarray, points: int, seed: int) -> Rows:
    """Residual (actual - predicted) against the prediction, downsampled like the scatter."""
    y_true, predicted = np.asarray(y_true, dtype=float), np.asarray(predicted, dtype=float)
    return [
        {"predicted": round(float(predicted[i]), 6), "residual": round(float(y_true[i] - predicted[i]), 6)}
        for i in _sample(len(y_true), points, seed)
    ]
