"""The estimator from configuration, the full pipeline, and safe persistence with skops (no pickle): a model loads
only when every type it holds is trusted by exact name (``slipway.trusted_types`` + ``train.trusted_types``)."""

from __future__ import annotations

import importlib
import io
import itertools
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import skops.io as sio
from sklearn.base import BaseEstimator, is_classifier, is_regressor
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.ensemble._hist_gradient_boosting.common import PREDICTOR_RECORD_DTYPE
from sklearn.ensemble._hist_gradient_boosting.gradient_boosting import BaseHistGradientBoosting
from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline

from slipway.config import ConfigError, FeaturesConfig, Task, TrainConfig
from slipway.features import build_transformer
from slipway.trusted_types import BUILTIN_TRUSTED_TYPES


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


class UnsafeModelError(ConfigError):
    """A model file was refused: it is not a readable skops file, it holds types nobody declared trusted (loading
    them could run code), or its trees point outside themselves. The message names what and where."""


def trusted_types(declared: Sequence[str] = ()) -> frozenset[str]:
    """The exact type names a model may hold: the reviewed built-in list plus those declared in params.yaml."""
    return frozenset(BUILTIN_TRUSTED_TYPES) | frozenset(declared)


def untrusted_types(path: Path | str, declared: Sequence[str] = ()) -> list[str]:
    """Types in a skops file that neither skops' defaults nor the trusted list cover (nothing is constructed)."""
    allowed = trusted_types(declared)
    return sorted(t for t in sio.get_untrusted_types(file=path) if t not in allowed)


def load_model(path: Path | str, declared: Sequence[str] = ()) -> Pipeline:
    """Load a skops file that holds only trusted types (exact names, see ``slipway.trusted_types``); refuse
    anything else before constructing a single object, then check the indices of any gradient-boosted trees."""
    try:
        found = sio.get_untrusted_types(file=path)
    except Exception as error:  # not a zip, no schema.json, a malformed tree: nothing was constructed
        raise UnsafeModelError(f"{path}: not a readable skops file ({type(error).__name__}: {error})") from None
    refused = sorted(set(found) - trusted_types(declared))
    if refused:
        raise UnsafeModelError(
            f"{path}: refusing to load untrusted types {refused} (constructing them could run code); if you "
            "trained this model and reviewed these types, list them in params.yaml under train.trusted_types"
        )
    try:
        model = sio.load(path, trusted=sorted(found))
    except Exception as error:  # trusted types with content their classes reject
        raise UnsafeModelError(f"{path}: cannot be loaded ({type(error).__name__}: {error})") from None
    try:
        problem = tree_problem(model)
    except Exception as error:  # a tree ensemble missing the attributes a fitted one has
        problem = f"gradient-boosted trees cannot be checked ({type(error).__name__}: {error})"
    if problem:
        raise UnsafeModelError(f"{path}: refusing a model whose {problem}")
    return model


def _tree_ensembles(obj: Any, seen: set[int] | None = None) -> Iterator[BaseEstimator]:
    """Every fitted HistGradientBoosting estimator inside a loaded object (pipelines, meta-estimators, lists)."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, list | tuple):
        for item in obj:
            yield from _tree_ensembles(item, seen)
    elif isinstance(obj, dict):
        for item in obj.values():
            yield from _tree_ensembles(item, seen)
    elif isinstance(obj, BaseEstimator):
        if isinstance(obj, BaseHistGradientBoosting):
            yield obj
        for item in vars(obj).values():
            yield from _tree_ensembles(item, seen)


def _bitsets_hold(bitsets: Any, rows: np.ndarray) -> bool:
    """Category bitsets (256 bits a row) that have every row a split reads."""
    shaped = isinstance(bitsets, np.ndarray) and bitsets.ndim == 2 and bitsets.shape[1] >= 8
    return shaped and bool((rows < len(bitsets)).all())


def _nodes_problem(predictor: Any, n_features: int, categories: Callable[[], tuple[Any, Any]]) -> str | None:
    """Why a tree's node indices are unsafe to follow, or None. Children must come after their parent and inside
    the tree (so every walk ends), features inside the input, categorical splits inside their bitsets."""
    nodes = getattr(predictor, "nodes", None)
    if not isinstance(predictor, TreePredictor) or not isinstance(nodes, np.ndarray):
        return f"holds a {type(predictor).__name__} where a TreePredictor belongs"
    if nodes.ndim != 1 or nodes.dtype != PREDICTOR_RECORD_DTYPE or len(nodes) == 0:
        return "has a tree without a node table of the right layout"
    inner = np.flatnonzero(nodes["is_leaf"] == 0)
    left, right = nodes["left"][inner].astype(np.int64), nodes["right"][inner].astype(np.int64)
    feature = nodes["feature_idx"][inner]
    bad = (left <= inner) | (right <= inner) | (left >= len(nodes)) | (right >= len(nodes))
    bad |= (feature < 0) | (feature >= n_features)
    if bad.any():
        return f"has a tree whose node {int(inner[bad.argmax()])} points outside the tree or the input"
    split = nodes[inner[nodes["is_categorical"][inner] != 0]]
    if len(split):
        known, f_idx_map = categories()
        if not (
            _bitsets_hold(predictor.raw_left_cat_bitsets, split["bitset_idx"])
            and isinstance(f_idx_map, np.ndarray)
            and len(f_idx_map) >= n_features
            and _bitsets_hold(known, f_idx_map[split["feature_idx"]])
        ):
            return "has a tree whose categorical split points outside its category tables"
    return None


def tree_problem(model: Any) -> str | None:
    """What is unsafe about the gradient-boosted trees of a loaded model, or None. scikit-learn follows their
    node indices in compiled code without bounds checks, so a crafted file could read outside memory or loop."""
    for estimator in _tree_ensembles(model):
        categories = estimator._bin_mapper.make_known_categories_bitsets
        for predictor in itertools.chain.from_iterable(estimator._predictors):
            problem = _nodes_problem(predictor, int(estimator.n_features_in_), categories)
            if problem:
                return f"{type(estimator).__name__} {problem}"
    return None
