"""Per-row predictions of the test split: what the metrics and their intervals are computed from.

The evaluate stage writes them (``outputs/predictions/test.parquet``), and the quality gate pairs a pull request's
predictions with its base's on the same rows. Columns:

- ``id``: the id column's value, or the row's position in the test split when the project has no id column;
- ``label``: the true target as in the data;
- ``y``: the truth as the metrics take it: 1/0 for the positive class (binary), the class's index in the model's
  classes (multiclass), the value (regression);
- the model's output: ``score`` (binary: the positive class's probability), one ``p:<class>`` column per class in
  the model's order (multiclass), ``prediction`` (regression).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

CLASS_PREFIX = "p:"


def predictions_frame(
    task: str, model: Any, x: pd.DataFrame, label: np.ndarray, ids: np.ndarray | None
) -> pd.DataFrame:
    """The test split's per-row predictions for ``task`` (see the module docstring for the columns)."""
    frame = pd.DataFrame({"id": np.arange(len(x)) if ids is None else np.asarray(ids), "label": np.asarray(label)})
    if task == "regression":
        frame["y"] = np.asarray(label, dtype=float)
        frame["prediction"] = np.asarray(model.predict(x), dtype=float)
        return frame
    classes = list(model.classes_)
    proba = np.asarray(model.predict_proba(x), dtype=float)
    index = {value: position for position, value in enumerate(classes)}
    positions = np.array([index.get(value, -1) for value in np.asarray(label)])
    if task == "binary":
        frame["y"] = (positions == 1).astype(np.int8)
        frame["score"] = proba[:, 1]
        return frame
    frame["y"] = positions
    for position, value in enumerate(classes):
        frame[f"{CLASS_PREFIX}{value}"] = proba[:, position]
    return frame


def metric_inputs(frame: pd.DataFrame, task: str) -> tuple[np.ndarray, np.ndarray]:
    """``(y, output)`` as the metrics of ``slipway.tasks`` take them, from a predictions frame."""
    y = frame["y"].to_numpy()
    if task == "regression":
        return y.astype(float), frame["prediction"].to_numpy(dtype=float)
    if task == "binary":
        return y.astype(int), frame["score"].to_numpy(dtype=float)
    return y.astype(int), frame[class_columns(frame)].to_numpy(dtype=float)


def class_columns(frame: pd.DataFrame) -> list[str]:
    """The multiclass probability columns, in the model's class order."""
    return [column for column in frame.columns if str(column).startswith(CLASS_PREFIX)]
