"""The estimator from configuration and the full pipeline (the one feature transformer + the estimator)."""

from __future__ import annotations

import importlib
from typing import Any

from sklearn.base import BaseEstimator, is_classifier, is_regressor
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline

from slipway.config import ConfigError, FeaturesConfig, Task, TrainConfig
from slipway.pipeline.features import build_transformer


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
