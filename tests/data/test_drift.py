"""Drift numbers on identical data, on data from the same generator, and on data with a known shift."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from slipway.config import DriftConfig
from slipway.data.drift import categorical_psi, detect_drift, numeric_psi, psi, quantile_edges
from slipway.data.generator import ChurnSettings, generate_churn

SETTINGS = DriftConfig()


def test_psi_is_zero_for_equal_shares_and_matches_the_formula() -> None:
    assert psi(np.array([0.5, 0.5]), np.array([0.5, 0.5])) == 0.0
    expected = (0.9 - 0.5) * math.log(0.9 / 0.5) + (0.1 - 0.5) * math.log(0.1 / 0.5)
    assert psi(np.array([0.5, 0.5]), np.array([0.9, 0.1])) == pytest.approx(expected)


def test_identical_data_has_no_drift(config, churn_frame: pd.DataFrame) -> None:
    result = detect_drift(
        churn_frame, churn_frame.copy(), config.features.numeric, config.features.categorical, SETTINGS
    )
    assert result.drifted == []
    assert {f.feature for f in result.features} == set(config.features.all)
    for feature in result.features:
        assert feature.psi == 0.0
        assert feature.reason == "stable"
        if feature.kind == "numeric":
            assert feature.ks_statistic == 0.0 and feature.ks_pvalue == 1.0


def test_a_fresh_sample_of_the_same_population_is_stable(config) -> None:
    reference = generate_churn(ChurnSettings(rows=5_000, seed=1))
    current = generate_churn(ChurnSettings(rows=5_000, seed=2))
    result = detect_drift(reference, current, config.features.numeric, config.features.categorical, SETTINGS)
    assert result.drifted == []
    assert max(f.psi for f in result.features) < 0.05


def test_a_known_shift_is_flagged_on_that_feature_and_what_derives_from_it(config) -> None:
    reference = generate_churn(ChurnSettings(rows=5_000, seed=1))
    current = generate_churn(ChurnSettings(rows=5_000, seed=2, numeric_shift={"monthly_charges": 1.0}))
    result = detect_drift(reference, current, config.features.numeric, config.features.categorical, SETTINGS)
    assert result.drifted == ["monthly_charges", "total_charges"]  # total = monthly x tenure
    shifted = next(f for f in result.features if f.feature == "monthly_charges")
    assert shifted.psi is not None and shifted.psi > 0.25
    assert shifted.ks_pvalue is not None and shifted.ks_pvalue < 1e-10
    assert "PSI" in shifted.reason and "KS" in shifted.reason


def test_categorical_shift_and_new_categories() -> None:
    reference = pd.Series(["a"] * 80 + ["b"] * 20)
    assert categorical_psi(reference, reference) == 0.0
    moved = pd.Series(["a"] * 20 + ["b"] * 80)
    assert categorical_psi(reference, moved) > 1.0
    unseen = pd.Series(["a"] * 80 + ["c"] * 20)  # a category the reference never had
    assert categorical_psi(reference, unseen) > 0.5


def test_numeric_bins_come_from_reference_quantiles_and_missing_is_a_bin() -> None:
    reference = pd.Series(np.arange(100, dtype=float))
    assert len(quantile_edges(reference, 10)) == 9
    with_gaps = reference.copy()
    with_gaps[:30] = np.nan
    assert numeric_psi(reference, with_gaps, 10) > 0.2
    ties = pd.Series([1.0] * 99 + [2.0])
    assert len(quantile_edges(ties, 10)) == 1  # duplicate edges collapse


def test_missing_feature_and_unparseable_values() -> None:
    reference = pd.DataFrame({"x": np.arange(200.0), "c": ["a", "b"] * 100})
    current = pd.DataFrame({"x": ["oops"] * 200})
    result = detect_drift(reference, current, ["x"], ["c"], SETTINGS)
    by_name = {f.feature: f for f in result.features}
    assert by_name["c"].drifted and by_name["c"].reason == "missing from current data"
    assert by_name["x"].drifted and by_name["x"].ks_pvalue is None  # nothing parses: all missing
    assert result.to_dict()["drifted"] == ["x", "c"]
