"""Export the fitted pipeline to ONNX, and keep the export only if it agrees with scikit-learn.

Two adjustments make the scikit-learn pipeline convertible without changing what it computes:
- skl2onnx converts a string ``SimpleImputer`` only when its missing marker is a string, so the exported copy marks
  missing categoricals as ``""``;
- a classifier's ``ZipMap`` is switched off so probabilities come out as one ``[N, classes]`` tensor.

What is compared depends on the model: a classifier's probabilities for every class (absolute difference), a
regressor's predicted values (difference relative to ``max(1, |value|)``: ONNX computes in float32). skl2onnx is
imported inside the functions that need it: it belongs to the ``pipeline`` extra, not to the serving image.

A large test split is checked on ``CHECK_ROWS`` of its rows (:func:`agreement_rows`): every row holding the smallest
or largest value of a numeric feature (where float32 rounding is largest), the first row of every category and of
every missing value (where a converter mistake would show), and a seeded random sample for the rest. A disagreement
on a share ``p`` of the rows escapes a random sample of ``n`` rows with probability ``(1 - p) ** n``: with 5,000
rows, under 1% for ``p`` = 0.1%. Comparing more rows costs time (a feed of Python strings per row) and adds nothing
the sample does not already show."""

from __future__ import annotations

import copy
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from slipway.adapters.files import write_json
from slipway.artifact.onnx_runtime import ONNX_FILE, onnx_feeds, onnx_outputs, onnx_session
from slipway.config import FeaturesConfig

log = logging.getLogger(__name__)


CHECK_FILE = "onnx_check.json"


TOLERANCE = 1e-6


REGRESSION_TOLERANCE = 1e-5


TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}


CHECK_ROWS = 5000
"""The agreement check compares at most this many test rows, plus the rows that cover every feature's extremes,
categories and missing values (see the module docstring)."""


CHECK_SEED = 0


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


def _covering_rows(x: pd.DataFrame, features: FeaturesConfig) -> np.ndarray:
    """Positions of the rows that hold a numeric feature's smallest or largest value, and of the first row of every
    distinct value (missing included) of a categorical feature and of the first missing value of a numeric one."""
    found: list[np.ndarray] = []
    for name in features.numeric:
        values = x[name].to_numpy(dtype=float, na_value=np.nan)
        missing = np.isnan(values)
        if not missing.all():
            found.append(np.array([np.nanargmin(values), np.nanargmax(values)]))
        found.append(np.flatnonzero(missing)[:1])
    for name in features.categorical:
        found.append(np.flatnonzero(~x[name].duplicated().to_numpy()))
    return np.unique(np.concatenate(found)) if found else np.array([], dtype=int)


def agreement_rows(x: pd.DataFrame, features: FeaturesConfig, limit: int = CHECK_ROWS) -> np.ndarray:
    """Positions of the rows of ``x`` the agreement check compares: all of them when there are at most ``limit``;
    else the covering rows (``_covering_rows``) and a seeded random sample up to ``limit`` rows, in table order."""
    if len(x) <= limit:
        return np.arange(len(x))
    covering = _covering_rows(x, features)
    others = np.setdiff1d(np.arange(len(x)), covering, assume_unique=True)
    size = max(0, min(limit - len(covering), len(others)))
    sample = np.random.default_rng(CHECK_SEED).choice(others, size=size, replace=False)
    return np.sort(np.concatenate([covering, sample]))


def export_if_agrees(
    pipeline: Any,
    features: FeaturesConfig,
    x: pd.DataFrame,
    out_dir: Path | str,
    checked_on: str,
    tolerance: float | None = None,
) -> OnnxCheck:
    """Write ``model.onnx`` when the export agrees with scikit-learn on the rows of ``x`` that
    :func:`agreement_rows` picks (all of them, up to ``CHECK_ROWS``) within ``tolerance``.

    ``tolerance`` defaults to ``TOLERANCE`` (absolute, probabilities) for a classifier and ``REGRESSION_TOLERANCE``
    (relative, values) for a regressor. Always writes ``onnx_check.json`` (the outcome); removes a stale
    ``model.onnx`` when the export is not kept, so the serving API falls back to scikit-learn. Never raises for an
    unconvertible model: it logs why.
    """
    rows = agreement_rows(x, features)
    if len(rows) < len(x):
        checked_on = (
            f"{checked_on}: {len(rows):,} of {len(x):,} rows (extremes, categories, missing values, seeded sample)"
        )
        x = x.iloc[rows]
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
