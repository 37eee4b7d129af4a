"""Export the fitted pipeline to ONNX, and keep the export only if it agrees with scikit-learn.

The model's input is a table with string categoricals and int/float numerics; ONNX gets one ``[N, 1]`` input per
column (numerics as float32, categoricals as strings) named after the column. ``onnx_feeds`` builds those inputs
from a table or from columns of plain values; the serving API and the agreement check both use it.

Two adjustments make the scikit-learn pipeline convertible without changing what it computes:
- skl2onnx converts a string ``SimpleImputer`` only when its missing marker is a string, so the exported copy marks
  missing categoricals as ``""`` (``onnx_feeds`` turns a missing category into ``""``);
- a classifier's ``ZipMap`` is switched off so probabilities come out as one ``[N, classes]`` tensor.

What is compared depends on the model: a classifier's probabilities for every class (absolute difference, the
binary positive-class probability included), a regressor's predicted values (difference relative to
``max(1, |value|)``: ONNX computes in float32, so large targets are only exact to about seven digits).

skl2onnx is imported inside the functions that need it: it belongs to the ``pipeline`` extra, not to the serving
image, which only needs ``onnx_feeds`` and onnxruntime.
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from slipway.config import FeaturesConfig
from slipway.io import write_json

log = logging.getLogger(__name__)

ONNX_FILE = "model.onnx"
CHECK_FILE = "onnx_check.json"
TOLERANCE = 1e-6
REGRESSION_TOLERANCE = 1e-5
TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}
PROBABILITIES = "probabilities"


@dataclass(frozen=True)
class OnnxCheck:
    """Outcome of an export: whether it agrees with scikit-learn, by how much, on what."""

    agrees: bool
    max_abs_diff: float | None
    tolerance: float
    rows: int
    checked_on: str
    reason: str
    compared: str = "class probabilities"


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


def _walk(estimator: Any) -> list[Any]:
    found = [estimator]
    for _, step in getattr(estimator, "steps", None) or []:
        found += _walk(step)
    for _, part, _ in getattr(estimator, "transformers_", None) or []:
        if not isinstance(part, str):
            found += _walk(part)
    return found


def convertible_copy(pipeline: Any) -> Any:
    """A copy of the fitted pipeline that skl2onnx can convert (string imputers mark missing as "")."""
    from sklearn.impute import SimpleImputer

    clone = copy.deepcopy(pipeline)
    for part in _walk(clone):
        statistics = getattr(part, "statistics_", None)
        if isinstance(part, SimpleImputer) and statistics is not None and statistics.dtype == object:
            part.missing_values = ""
    return clone


def is_classifier_model(pipeline: Any) -> bool:
    """Whether the fitted model predicts classes (it has ``classes_``) rather than values."""
    return hasattr(pipeline, "classes_")


def to_onnx_bytes(pipeline: Any, features: FeaturesConfig) -> bytes:
    """Convert a fitted pipeline to a serialized ONNX model with one input per feature column.

    Outputs: a classifier's ``label`` and ``probabilities`` (``[N, classes]``); a regressor's ``variable``
    (``[N, 1]``).
    """
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    clone = convertible_copy(pipeline)
    inputs = [(name, FloatTensorType([None, 1])) for name in features.numeric]
    inputs += [(name, StringTensorType([None, 1])) for name in features.categorical]
    final = clone.steps[-1][1] if hasattr(clone, "steps") else clone
    model = convert_sklearn(
        clone,
        initial_types=inputs,
        options={id(final): {"zipmap": False}} if is_classifier_model(pipeline) else None,
        target_opset=TARGET_OPSET,
        naming="slipway_",
    )
    model.doc_string = "slipway model: one [N,1] input per feature; outputs label and probabilities, or values"
    model.graph.name = "slipway_model"  # skl2onnx names the graph with a random UUID; keep the bytes reproducible
    _sort_opsets(model)
    return model.SerializeToString()


def _sort_opsets(model: Any) -> None:
    """Order the model's opset imports by domain: skl2onnx lists them in set order, which varies with
    ``PYTHONHASHSEED``, and the serialized bytes with it."""
    opsets = sorted((opset.domain, opset.version) for opset in model.opset_import)
    del model.opset_import[:]
    for domain, version in opsets:
        model.opset_import.add(domain=domain, version=version)


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


def sklearn_outputs(pipeline: Any, x: pd.DataFrame) -> np.ndarray:
    """What ``onnx_outputs`` returns, computed by scikit-learn."""
    if is_classifier_model(pipeline):
        return np.asarray(pipeline.predict_proba(x), dtype=np.float64)
    return np.asarray(pipeline.predict(x), dtype=np.float64).reshape(-1)


def compare(pipeline: Any, onnx_model: bytes, x: pd.DataFrame, features: FeaturesConfig) -> float:
    """Largest difference, ONNX vs scikit-learn over ``x``: absolute for probabilities, relative for values."""
    if not len(x):
        return 0.0
    expected = sklearn_outputs(pipeline, x[features.all])
    got = onnx_outputs(onnx_session(onnx_model), onnx_feeds(x, features.numeric, features.categorical))
    if got.shape != expected.shape:
        raise ValueError(f"ONNX output shape {got.shape} differs from scikit-learn's {expected.shape}")
    difference = np.abs(got - expected)
    if not is_classifier_model(pipeline):
        difference = difference / np.maximum(1.0, np.abs(expected))
    return float(np.max(difference))


def export_if_agrees(
    pipeline: Any,
    features: FeaturesConfig,
    x: pd.DataFrame,
    out_dir: Path | str,
    checked_on: str,
    tolerance: float | None = None,
) -> OnnxCheck:
    """Write ``model.onnx`` when the export agrees with scikit-learn on ``x`` within ``tolerance``.

    ``tolerance`` defaults to ``TOLERANCE`` (absolute, probabilities) for a classifier and ``REGRESSION_TOLERANCE``
    (relative, values) for a regressor. Always writes ``onnx_check.json`` (the outcome); removes a stale
    ``model.onnx`` when the export is not kept, so the serving API falls back to scikit-learn. Never raises for an
    unconvertible model: it logs why.
    """
    out = Path(out_dir)
    target = out / ONNX_FILE
    target.unlink(missing_ok=True)
    classifier = is_classifier_model(pipeline)
    compared = "class probabilities" if classifier else "predicted values (relative to max(1, |value|))"
    if tolerance is None:
        tolerance = TOLERANCE if classifier else REGRESSION_TOLERANCE
    diff: float | None = None
    if classifier and not hasattr(pipeline, "predict_proba"):
        reason = "the classifier has no predict_proba"
        check = OnnxCheck(False, None, tolerance, len(x), checked_on, reason, compared)
    else:
        try:
            model = to_onnx_bytes(pipeline, features)
            diff = compare(pipeline, model, x, features)
        except Exception as error:  # any converter/runtime failure means: serve with scikit-learn
            reason = f"export failed: {type(error).__name__}: {error}"
            check = OnnxCheck(False, None, tolerance, len(x), checked_on, reason, compared)
        else:
            agrees = diff <= tolerance
            reason = "agrees" if agrees else f"largest difference of {compared} {diff:.3g} exceeds {tolerance:g}"
            check = OnnxCheck(agrees, diff, tolerance, len(x), checked_on, reason, compared)
            if agrees:
                out.mkdir(parents=True, exist_ok=True)
                target.write_bytes(model)
    write_json(asdict(check), out / CHECK_FILE)
    if check.agrees:
        log.info("ONNX export kept: max abs diff %.3g on %d rows of %s -> %s", diff, check.rows, checked_on, target)
    else:
        log.warning("no ONNX export (serving will use scikit-learn): %s", check.reason)
    return check
