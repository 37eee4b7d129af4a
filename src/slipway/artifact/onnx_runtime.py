"""Running an exported model with onnxruntime: its inputs from table columns, its outputs as arrays.

ONNX gets one ``[N, 1]`` input per column (numerics as float32, categoricals as strings) named after the column;
a missing category is fed as ``""``. Used by serving and by the train stage's agreement check."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ONNX_FILE = "model.onnx"


PROBABILITIES = "probabilities"


def _missing_string(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def onnx_feeds(
    columns: Mapping[str, Sequence[Any]] | pd.DataFrame, numeric: Sequence[str], categorical: Sequence[str]
) -> dict[str, np.ndarray]:
    """ONNX inputs (one ``[N, 1]`` array per feature) from a table or a mapping of column -> values.

    Numeric: float32 with NaN for missing. Categorical: Python strings, ``""`` for missing.
    """
    feeds: dict[str, np.ndarray] = {}
    for name in numeric:
        values = columns[name]
        if isinstance(values, pd.Series):
            array = values.astype("float64").to_numpy(dtype=np.float32, na_value=np.nan)
        else:
            array = np.array([np.nan if v is None else v for v in values], dtype=np.float32)
        feeds[name] = array.reshape(-1, 1)
    for name in categorical:
        values = columns[name]
        items = values.tolist() if isinstance(values, pd.Series) else values
        feeds[name] = np.array(["" if _missing_string(v) else str(v) for v in items], dtype=object).reshape(-1, 1)
    return feeds


def onnx_session(model: bytes | Path | str) -> Any:
    """An onnxruntime session on the CPU (one thread per operator: serving runs many small requests)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    source = str(model) if isinstance(model, Path | str) else model
    return ort.InferenceSession(source, sess_options=options, providers=["CPUExecutionProvider"])


def onnx_outputs(session: Any, feeds: Mapping[str, np.ndarray]) -> np.ndarray:
    """A classifier's class probabilities ``[N, classes]``, or a regressor's predicted values ``[N]``."""
    names = [output.name for output in session.get_outputs()]
    if PROBABILITIES in names:
        (probabilities,) = session.run([PROBABILITIES], dict(feeds))
        return np.asarray(probabilities, dtype=np.float64)
    (values,) = session.run([names[0]], dict(feeds))
    return np.asarray(values, dtype=np.float64).reshape(-1)
