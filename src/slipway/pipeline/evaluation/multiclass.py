"""Metrics and plot data for a multiclass classifier. Pure functions: arrays in, plain data out."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, log_loss, roc_auc_score

from slipway.pipeline.evaluation.binary import Rows

IMPORTANCE_SCORING = "f1_macro"


def multiclass_metrics(y_true: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> dict[str, float]:
    """Accuracy, macro/weighted F1, log loss and macro one-vs-rest ROC AUC, rounded for stable diffs.

    ``proba`` has one column per entry of ``classes`` (the model's ``classes_``). ROC AUC is left out when
    the test split lacks a class (it is undefined then), rather than reported as a misleading number.
    """
    predicted = classes[np.argmax(proba, axis=1)]
    metrics = {
        "accuracy": accuracy_score(y_true, predicted),
        "f1_macro": f1_score(y_true, predicted, average="macro", zero_division=0),
        "f1_weighted": f1_score(y_true, predicted, average="weighted", zero_division=0),
        "log_loss": log_loss(y_true, np.clip(proba, 1e-15, 1.0), labels=classes),
    }
    if set(np.unique(y_true)) == set(classes) and len(classes) > 2:
        metrics["roc_auc_ovr"] = roc_auc_score(y_true, proba, multi_class="ovr", average="macro", labels=classes)
    return {name: round(float(value), 6) for name, value in metrics.items()}


def confusion_counts(y_true: np.ndarray, predicted: np.ndarray, classes: np.ndarray) -> Rows:
    """Every (actual, predicted) cell as a count, in the order of ``classes``."""
    matrix = confusion_matrix(y_true, predicted, labels=classes)
    return [
        {
            "actual": _plain(a),
            "predicted": _plain(p),
            "cell": f"actual {a} / predicted {p}",
            "count": int(matrix[i, j]),
        }
        for i, a in enumerate(classes)
        for j, p in enumerate(classes)
    ]


def _plain(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value
