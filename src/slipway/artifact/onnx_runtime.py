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


def _numeric_feed(values: Any) -> np.ndarray:
    """float32 ``[N, 1]`` with NaN for missing, from an array, a Series or a list (None is missing)."""
    if isinstance(values, pd.Series):
        array = values.astype("float64").to_numpy(dtype=np.float32, na_value=np.nan)
    else:  # numpy reads None as NaN for a float dtype
        array = np.asarray(values, dtype=np.float32)
    return array.reshape(-1, 1)


def _string_feed(values: Any) -> np.ndarray:
    """Python strings ``[N, 1]``, ``""`` for missing, from a Series or a list."""
    items = values.tolist() if isinstance(values, pd.Series | np.ndarray) else values
    if set(map(type, items)) != {str}:
        items = ["" if _missing_string(v) else str(v) for v in items]
    return np.fromiter(items, dtype=object, count=len(items)).reshape(-1, 1)


def onnx_feeds(
    columns: Mapping[str, Sequence[Any]] | pd.DataFrame, numeric: Sequence[str], categorical: Sequence[str]
) -> dict[str, np.ndarray]:
    """ONNX inputs (one ``[N, 1]`` array per feature) from a table or a mapping of column -> values.

    Numeric: float32 with NaN for missing. Categorical: Python strings, ``""`` for missing.
    """
    feeds = {name: _numeric_feed(columns[name]) for name in numeric}
    feeds.update((name, _string_feed(columns[name])) for name in categorical)
    return feeds


def onnx_session(model: bytes | Path | str) -> Any:
    """An onnxruntime session on the CPU (one thread per operator: serving runs many small requests)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    source = str(model) if isinstance(model, Path | str) else model
    return ort.InferenceSession(source, sess_options=options, providers=["CPUExecutionProvider"])


def output_name(session: Any) -> str:
    """The output ``onnx_outputs`` reads: a classifier's ``probabilities``, else a regressor's first output."""
    names = [output.name for output in session.get_outputs()]
    return PROBABILITIES if PROBABILITIES in names else names[0]


def onnx_outputs(session: Any, feeds: Mapping[str, np.ndarray], output: str | None = None) -> np.ndarray:
    """A classifier's class probabilities ``[N, classes]``, or a regressor's predicted values ``[N]``.

    ``output``: the session's ``output_name`` when the caller has it already (serving asks once, at load)."""
    output = output or output_name(session)
    (values,) = session.run([output], feeds if isinstance(feeds, dict) else dict(feeds))
    values = np.asarray(values, dtype=np.float64)
    return values if output == PROBABILITIES else values.reshape(-1)
