"""Behavioural tests of the trained model: minimum quality, invariance, direction."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from slipway.data.generator import ChurnSettings, generate_churn
from slipway.data.tables import split
from slipway.pipeline.model import build_pipeline

MIN_ROC_AUC = 0.75


@pytest.fixture(scope="module")
def trained(config):
    df = generate_churn(ChurnSettings(rows=6_000, seed=11))
    train, test = split(df, config.data.target, config.split.test_size, config.split.seed)
    model = build_pipeline(config.features, config.train).fit(train[config.features.all], train[config.data.target])
    return model, test


def _risk(model, frame: pd.DataFrame, features: list[str]) -> np.ndarray:
    return model.predict_proba(frame[features])[:, 1]


def test_minimum_quality_on_held_out_data(trained, config):
    model, test = trained
    assert roc_auc_score(test[config.data.target], _risk(model, test, config.features.all)) >= MIN_ROC_AUC


def test_invariant_to_a_feature_with_no_effect(trained, config):
    model, test = trained
    flipped = test.assign(paperless_billing=np.where(test.paperless_billing == "yes", "no", "yes"))
    change = np.abs(_risk(model, flipped, config.features.all) - _risk(model, test, config.features.all))
    assert change.max() < 0.05


@pytest.mark.parametrize(
    ("feature", "lower", "higher"),
    [
        ("contract", "two-year", "month-to-month"),
        ("tenure_months", 60, 2),
        ("support_calls", 0, 6),
    ],
)
def test_direction_of_known_effects(trained, config, feature, lower, higher):
    """Longer contracts and tenure lower churn risk; more support calls raise it, all else equal."""
    model, test = trained
    rows = test.head(300)
    low = _risk(model, rows.assign(**{feature: lower}), config.features.all)
    high = _risk(model, rows.assign(**{feature: higher}), config.features.all)
    assert (high > low).mean() > 0.95
