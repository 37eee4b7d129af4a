"""What the API answers for each record, by task: pure functions from model outputs to JSON-ready answers.

- binary: ``{"label": <class>, "probability": <probability of the positive class>}``; the positive class is the
  model's second class (1 for 0/1 targets, the later label for text) and the label is it when the probability
  reaches the serving threshold;
- multiclass: ``{"label": <most probable class>, "probability": <its probability>, "probabilities": {class: p}}``;
- regression: ``{"value": <predicted value>}``.

``scores`` and ``labels`` are what the prediction log and the metrics keep of each answer: the probability (or
the value) and the class (None for regression). A batch is answered column by column (numpy), then turned into
one JSON object per record.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

Task = Literal["binary", "multiclass", "regression"]
ClassLabel = int | float | str | bool


@dataclass(frozen=True)
class Answers:
    """A batch's predictions: ``bodies`` go into the response, ``scores`` and ``labels`` into log and metrics."""

    bodies: list[dict[str, Any]]
    scores: np.ndarray
    labels: Sequence[ClassLabel | None]

    def label_counts(self) -> dict[str, int]:
        """How many records got each class (as the text of the class); empty for regression."""
        if not self.labels or self.labels[0] is None:
            return {}
        if len(self.labels) == 1:
            return {str(self.labels[0]): 1}
        return {str(label): count for label, count in Counter(self.labels).items()}


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


def answers(task: Task, outputs: np.ndarray, classes: list[ClassLabel], threshold: float) -> Answers:
    """The answers for a batch: ``outputs`` is ``[N, classes]`` probabilities, or ``[N]`` values for regression."""
    if task == "regression":
        return _values(np.asarray(outputs, dtype=np.float64).reshape(-1))
    if outputs.ndim != 2 or outputs.shape[1] != len(classes):
        raise ValueError(f"expected probabilities of {len(classes)} classes, got an array of shape {outputs.shape}")
    if task == "binary":
        negative, positive = classes
        scores = np.ascontiguousarray(outputs[:, 1])
        probabilities = scores.tolist()
        chosen = [positive if p >= threshold else negative for p in probabilities]
        bodies = [{"label": label, "probability": p} for label, p in zip(chosen, probabilities, strict=True)]
        return Answers(bodies, scores, chosen)
    best = np.argmax(outputs, axis=1)
    scores = outputs[np.arange(len(outputs)), best]
    chosen = np.asarray(classes, dtype=object)[best].tolist()
    names = [str(c) for c in classes]
    bodies = [
        {"label": label, "probability": p, "probabilities": dict(zip(names, row, strict=True))}
        for label, p, row in zip(chosen, scores.tolist(), outputs.tolist(), strict=True)
    ]
    return Answers(bodies, scores, chosen)


def _values(values: np.ndarray) -> Answers:
    finite = np.isfinite(values)
    if not finite.all():
        raise ValueError(f"the model predicted a non-finite value ({values[~finite][0]})")
    return Answers([{"value": v} for v in values.tolist()], values, [None] * len(values))
