"""What the API answers for each record, by task: pure functions from model outputs to JSON-ready answers.

- binary: ``{"label": <class>, "probability": <probability of the positive class>}``; the positive class is the
  model's second class (1 for 0/1 targets, the later label for text) and the label is it when the probability
  reaches the serving threshold;
- multiclass: ``{"label": <most probable class>, "probability": <its probability>, "probabilities": {class: p}}``;
- regression: ``{"value": <predicted value>}``.

``score`` and ``label`` are what the prediction log and the metrics keep of each answer: the probability (or
the value) and the class (None for regression).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

Task = Literal["binary", "multiclass", "regression"]
ClassLabel = int | float | str | bool


@dataclass(frozen=True)
class Answer:
    """One record's prediction: ``body`` goes into the response; ``score`` and ``label`` into log and metrics."""

    body: dict[str, Any]
    score: float
    label: ClassLabel | None


def task_of(model: Any) -> Task:
    """The task a fitted model solves: regression without ``classes_``, binary with two classes, else multiclass."""
    classes = getattr(model, "classes_", None)
    if classes is None:
        return "regression"
    return "binary" if len(classes) == 2 else "multiclass"


def plain_classes(model: Any) -> list[ClassLabel]:
    """The model's classes as JSON values (numpy scalars to Python), in the order of its probability columns."""
    classes = getattr(model, "classes_", None)
    return [] if classes is None else [c.item() if hasattr(c, "item") else c for c in classes]


def answers(task: Task, outputs: np.ndarray, classes: list[ClassLabel], threshold: float) -> list[Answer]:
    """The answers for a batch: ``outputs`` is ``[N, classes]`` probabilities, or ``[N]`` values for regression."""
    if task == "regression":
        return [_value(float(v)) for v in outputs]
    if outputs.ndim != 2 or outputs.shape[1] != len(classes):
        raise ValueError(f"expected probabilities of {len(classes)} classes, got an array of shape {outputs.shape}")
    found: list[Answer] = []
    if task == "binary":
        negative, positive = classes
        for p in outputs[:, 1].tolist():
            label = positive if p >= threshold else negative
            found.append(Answer({"label": label, "probability": p}, p, label))
        return found
    names = [str(c) for c in classes]
    for best, row in zip(np.argmax(outputs, axis=1).tolist(), outputs.tolist(), strict=True):
        label, p = classes[best], row[best]
        found.append(
            Answer({"label": label, "probability": p, "probabilities": dict(zip(names, row, strict=True))}, p, label)
        )
    return found


def _value(value: float) -> Answer:
    if not math.isfinite(value):
        raise ValueError(f"the model predicted a non-finite value ({value})")
    return Answer({"value": value}, value, None)
