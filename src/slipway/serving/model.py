"""The served model: a model folder loaded into a predictor (onnxruntime when the export exists, else scikit-learn).

The task (binary, multiclass, regression) and the classes come from the fitted model itself. A model folder holds
``model.skops`` (always), ``metadata.json`` (provenance, features, serving threshold),
``input_schema.yaml`` (the model-input schema), and optionally ``model.onnx`` (written by the train stage only
when it agrees with scikit-learn) and ``version.json`` (written by the deploy step: ``{"artifact": "model",
"version": "v1.2.0", "commit": "<the version's commit>"}``; a workspace model has none, so it serves unversioned,
with no commit).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pandera.pandas as pa

from slipway.artifact.onnx_runtime import ONNX_FILE, onnx_feeds, onnx_outputs, onnx_session, output_name
from slipway.artifact.persistence import load_model
from slipway.data.schema import load_schema, model_input_schema
from slipway.serving.predictions import Answers, ClassLabel, Task, answers, plain_classes, task_of
from slipway.serving.validation import RecordValidator, ValidatedBatch

log = logging.getLogger(__name__)

Backend = Literal["auto", "onnx", "sklearn"]
MODEL_FILE = "model.skops"
SCHEMA_FILE = "input_schema.yaml"
UNVERSIONED = "unversioned"


class ModelLoadError(RuntimeError):
    """The model folder cannot be served; the message says what is missing or wrong."""


def _read_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    if not isinstance(data, dict):
        raise ModelLoadError(f"{path}: expected a JSON object")
    return data


def _input_schema(
    model_dir: Path, metadata: dict[str, Any], params_path: Path, schema_path: Path | None
) -> pa.DataFrameSchema:
    """The folder's ``input_schema.yaml``; for older folders, derived from schema.yaml + params.yaml."""
    if (model_dir / SCHEMA_FILE).exists():
        return load_schema(model_dir / SCHEMA_FILE)
    from slipway.config import load_config

    config = load_config(params_path)
    raw = load_schema(schema_path or config.data.schema_path)
    return model_input_schema(raw, config.data.target, config.features.all, config.data.id_column)


def _declared_types(params_path: Path) -> list[str]:
    """``train.trusted_types`` of the server's params.yaml (none without one): what a model by import path adds to
    the reviewed types. Never read from the model folder, which is what a tampered release would change."""
    if not params_path.is_file():
        return []
    from slipway.config import load_config

    return load_config(params_path).train.trusted_types


@dataclass
class LoadedModel:
    """What the API needs to answer: validator, predictor, and what to report in /version."""

    model_dir: Path
    schema: pa.DataFrameSchema
    validator: RecordValidator
    numeric: list[str]
    categorical: list[str]
    task: Task
    classes: list[ClassLabel]
    threshold: float
    backend: str
    backend_reason: str
    version: dict[str, Any]
    metadata: dict[str, Any]
    load_seconds: float
    _sklearn: Any = field(repr=False, default=None)
    _onnx: Any = field(repr=False, default=None)
    _onnx_output: str | None = field(repr=False, default=None)

    def __post_init__(self) -> None:
        if self._onnx is not None:
            self._onnx_output = output_name(self._onnx)

    @property
    def features(self) -> list[str]:
        return [*self.numeric, *self.categorical]

    @property
    def model_version(self) -> str:
        return str(self.version.get("version") or UNVERSIONED)

    def frame(self, batch: ValidatedBatch) -> pd.DataFrame:
        """The feature table scikit-learn expects (numerics as numbers, categoricals as strings)."""
        data: dict[str, Any] = {}
        for name in self.numeric:
            values = batch.columns[name]
            series = values if isinstance(values, pd.Series) else pd.Series(values, dtype="float64")
            data[name] = series.astype("float64")
        for name in self.categorical:  # pandas' string dtype, as read from files for training: missing is NaN
            data[name] = pd.Series(batch.columns[name], dtype="str")
        return pd.DataFrame(data)

    def outputs(self, batch: ValidatedBatch) -> np.ndarray:
        """Class probabilities ``[N, classes]`` (classifiers) or predicted values ``[N]`` (regressors)."""
        if self._onnx is not None:
            feeds = onnx_feeds(batch.columns, self.numeric, self.categorical)
            return onnx_outputs(self._onnx, feeds, self._onnx_output)
        if self.task == "regression":
            return np.asarray(self._sklearn.predict(self.frame(batch)), dtype=np.float64).reshape(-1)
        return np.asarray(self._sklearn.predict_proba(self.frame(batch)), dtype=np.float64)

    def predict(self, batch: ValidatedBatch) -> Answers:
        """The answers to a validated batch, one per record (see ``slipway.serving.predictions``)."""
        return answers(self.task, self.outputs(batch), self.classes, self.threshold)


def load_served_model(
    model_dir: Path | str,
    backend: Backend = "auto",
    params_path: Path | str = "params.yaml",
    schema_path: Path | str | None = None,
) -> LoadedModel:
    """Load a model folder; ``auto`` serves ONNX when ``model.onnx`` exists and loads, else scikit-learn."""
    started = time.perf_counter()
    folder = Path(model_dir)
    if not (folder / MODEL_FILE).exists():
        raise ModelLoadError(f"{folder / MODEL_FILE} not found")
    metadata = _read_json(folder / "metadata.json")
    version = _read_json(folder / "version.json")
    schema = _input_schema(folder, metadata, Path(params_path), Path(schema_path) if schema_path else None)
    features = (metadata.get("params") or {}).get("features") or {}
    numeric = list(features.get("numeric") or [])
    categorical = list(features.get("categorical") or [])
    if not numeric and not categorical:
        from slipway.config import load_config

        config = load_config(params_path)
        numeric, categorical = list(config.features.numeric), list(config.features.categorical)
    threshold = float((metadata.get("serving") or {}).get("threshold", 0.5))
    sklearn_model = load_model(folder / MODEL_FILE, _declared_types(Path(params_path)))  # exact trusted types only
    task = task_of(sklearn_model)
    if task != "regression" and not hasattr(sklearn_model, "predict_proba"):
        raise ModelLoadError(f"{folder / MODEL_FILE}: the classifier has no predict_proba, so it cannot be served")

    onnx, chosen, reason = None, "sklearn", "configured" if backend == "sklearn" else "no model.onnx in the folder"
    if backend != "sklearn" and (folder / ONNX_FILE).exists():
        try:
            onnx = onnx_session(folder / ONNX_FILE)
            chosen, reason = "onnx", "model.onnx agrees with scikit-learn (train-time check)"
        except Exception as error:  # a broken export must not stop serving: fall back
            reason = f"model.onnx failed to load ({type(error).__name__}: {error})"
            log.warning("serving with scikit-learn: %s", reason)
    if backend == "onnx" and onnx is None:
        raise ModelLoadError(f"backend onnx requested but unavailable: {reason}")
    loaded = LoadedModel(
        folder, schema, RecordValidator(schema), numeric, categorical, task, plain_classes(sklearn_model), threshold,
        chosen, reason, version, metadata, 0.0, sklearn_model, onnx,
    )  # fmt: skip
    loaded.load_seconds = time.perf_counter() - started
    log.info("loaded %s (%s backend) in %.3f s", folder, chosen, loaded.load_seconds)
    return loaded
