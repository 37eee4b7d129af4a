"""The estimator from configuration, the full pipeline, and safe persistence with skops (no pickle)."""

from __future__ import annotations

import importlib
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import skops.io as sio
from sklearn.base import BaseEstimator, is_classifier, is_regressor
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline

from slipway.config import ConfigError, FeaturesConfig, Task, TrainConfig
from slipway.features import build_transformer

TRUSTED_MODULE_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.", "collections.")


def _import_estimator(path: str) -> type:
    module_name, _, class_name = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError) as error:
        raise ConfigError(f"train.model: cannot import {path!r} ({error})") from None


def _builtin(model: str, task: Task, params: dict[str, Any]) -> tuple[type, dict[str, Any]]:
    """The class of a built-in family for the task, and its parameters (logreg's C becomes Ridge's alpha)."""
    if model == "hgb":
        return (HistGradientBoostingRegressor if task == "regression" else HistGradientBoostingClassifier), params
    if task != "regression":
        return LogisticRegression, params  # lbfgs fits a multinomial model when there are more than two classes
    if "C" in params:
        params = {**{k: v for k, v in params.items() if k != "C"}, "alpha": 1.0 / float(params["C"])}
    return Ridge, params


def _check_fits_task(estimator: BaseEstimator, name: str, task: Task) -> None:
    if task == "regression" and is_classifier(estimator):
        raise ConfigError(f"train.model: {name!r} is a classifier but data.task is regression")
    if task != "regression" and is_regressor(estimator):
        raise ConfigError(f"train.model: {name!r} is a regressor but data.task is {task}")


def build_estimator(train: TrainConfig, task: Task = "binary") -> BaseEstimator:
    """A built-in family for the task or any estimator class named by import path, with its parameters."""
    params: dict[str, Any] = dict(train.model_params)
    if train.model in ("logreg", "hgb"):
        cls, params = _builtin(train.model, task, params)
    else:
        cls = _import_estimator(train.model)
        if not (isinstance(cls, type) and hasattr(cls, "fit") and hasattr(cls, "get_params")):
            raise ConfigError(
                f"train.model: {train.model!r} is not a scikit-learn style estimator class (needs fit and get_params)"
            )
    key = {"logreg": "train.logreg", "hgb": "train.hgb"}.get(train.model, "train.estimator_params")
    try:
        estimator = cls(**params)
    except TypeError as error:
        raise ConfigError(f"{key}: parameters do not fit {cls.__name__} ({error})") from None
    _check_fits_task(estimator, train.model, task)
    if "random_state" in estimator.get_params() and "random_state" not in params:
        estimator.set_params(random_state=train.seed)
    return estimator


def build_pipeline(features: FeaturesConfig, train: TrainConfig, task: Task = "binary") -> Pipeline:
    """Feature transformer followed by the estimator: the single object that is trained and served."""
    return Pipeline([("features", build_transformer(features)), ("model", build_estimator(train, task))])


_OBJECT_ID = re.compile(r'("__id__": )(\d+)()|(")(\d+)(\.npy")')


def _stable_zip(archive: bytes) -> bytes:
    """Make a skops archive reproducible: the same model always gives the same bytes (and hash).

    skops names objects and array members after memory addresses and stamps the time; renumber them
    in order of first reference in ``schema.json`` and use a fixed timestamp.
    """
    with zipfile.ZipFile(io.BytesIO(archive)) as src:
        members = {info.filename: src.read(info.filename) for info in src.infolist()}
    schema = members.pop("schema.json").decode()
    numbers: dict[str, str] = {}

    def renumber(match: re.Match[str]) -> str:
        before, old, after = (g for g in match.groups() if g is not None)
        return f"{before}{numbers.setdefault(old, str(len(numbers) + 1))}{after}"

    schema = _OBJECT_ID.sub(renumber, schema)
    renamed = {f"{numbers[name[:-4]]}.npy" if name[:-4] in numbers else name: data for name, data in members.items()}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for name, data in [("schema.json", schema.encode()), *sorted(renamed.items())]:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, data)
    return out.getvalue()


def save_model(model: Pipeline, path: Path | str) -> None:
    """Persist with skops, byte-for-byte reproducibly."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_stable_zip(sio.dumps(model)))


def untrusted_types(path: Path | str, extra_prefixes: tuple[str, ...] = ()) -> list[str]:
    """Types in a skops file outside the allow-list of module prefixes."""
    prefixes = TRUSTED_MODULE_PREFIXES + extra_prefixes
    return [t for t in sio.get_untrusted_types(file=path) if not t.startswith(prefixes)]


def load_model(path: Path | str, extra_prefixes: tuple[str, ...] = ()) -> Pipeline:
    """Load a skops file, trusting only types from the allow-listed modules; refuse anything else."""
    refused = untrusted_types(path, extra_prefixes)
    if refused:
        raise ValueError(f"{path}: refusing to load untrusted types {refused}")
    trusted = sio.get_untrusted_types(file=path)
    return sio.load(path, trusted=trusted)
