"""Estimators from configuration: built-in families per task, import paths, and the errors people will hit."""

from __future__ import annotations

import pytest
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, Ridge

from slipway.config import ConfigError, TrainConfig
from slipway.pipeline.model import build_estimator


@pytest.mark.parametrize(
    ("model", "task", "expected"),
    [
        ("logreg", "binary", LogisticRegression),
        ("logreg", "multiclass", LogisticRegression),
        ("logreg", "regression", Ridge),
        ("hgb", "binary", HistGradientBoostingClassifier),
        ("hgb", "multiclass", HistGradientBoostingClassifier),
        ("hgb", "regression", HistGradientBoostingRegressor),
    ],
)
def test_builtin_families_fit_the_task(model, task, expected):
    train = TrainConfig(model=model, seed=7, logreg={"C": 0.5, "max_iter": 200}, hgb={"max_iter": 20})
    estimator = build_estimator(train, task)
    assert type(estimator) is expected
    assert estimator.get_params()["random_state"] == 7
    if expected is Ridge:
        assert estimator.alpha == pytest.approx(2.0)  # C = 1 / alpha
    if expected is LogisticRegression:
        assert estimator.C == 0.5


def test_an_import_path_builds_that_estimator_with_its_params():
    train = TrainConfig(model="sklearn.ensemble.RandomForestClassifier", seed=3, estimator_params={"n_estimators": 7})
    estimator = build_estimator(train, "multiclass")
    assert isinstance(estimator, RandomForestClassifier)
    assert estimator.n_estimators == 7 and estimator.random_state == 3
    regressor = build_estimator(
        TrainConfig(model="sklearn.ensemble.RandomForestRegressor", estimator_params={"max_depth": 2}), "regression"
    )
    assert isinstance(regressor, RandomForestRegressor) and regressor.max_depth == 2


@pytest.mark.parametrize(
    ("train", "task", "message"),
    [
        (TrainConfig(model="sklearn.ensemble.NoSuchForest"), "binary", r"train.model: cannot import 'sklearn.ensemble"),
        (TrainConfig(model="no_such_package.Model"), "binary", "cannot import 'no_such_package.Model'"),
        (
            TrainConfig(model="sklearn.ensemble.RandomForestClassifier", estimator_params={"n_trees": 5}),
            "binary",
            r"train.estimator_params: parameters do not fit RandomForestClassifier .*n_trees",
        ),
        (TrainConfig(model="logreg", logreg={"depth": 3}), "binary", "train.logreg: parameters do not fit"),
        (TrainConfig(model="hgb", hgb={"C": 1.0}), "regression", "train.hgb: parameters do not fit"),
        (TrainConfig(model="collections.OrderedDict"), "binary", "not a scikit-learn style estimator"),
        (TrainConfig(model="json.dumps"), "binary", "not a scikit-learn style estimator"),
        (
            TrainConfig(model="sklearn.ensemble.RandomForestClassifier"),
            "regression",
            "is a classifier but data.task is regression",
        ),
        (TrainConfig(model="sklearn.linear_model.Ridge"), "multiclass", "is a regressor but data.task is multiclass"),
    ],
)
def test_bad_model_settings_name_the_key_and_the_reason(train, task, message):
    with pytest.raises(ConfigError, match=message):
        build_estimator(train, task)


def test_an_unknown_family_name_is_refused_when_params_are_read():
    with pytest.raises(ValueError, match="unknown model 'forest'"):
        TrainConfig(model="forest")
