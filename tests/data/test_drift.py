"""Drift numbers on identical data, on data from the same generator, and on data with a known shift; one rule for
the pull-request report and the monitor, with one settings section."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml
from support import REPO_ROOT

from slipway.config import ConfigError, DriftConfig, parse_config
from slipway.data.drift import (
    CategoricalProfile,
    categorical_drift,
    category_counts,
    compare,
    detect_drift,
    numeric_drift,
    numeric_profile,
    profile_table,
    psi,
    quantile_edges,
)
from slipway.data.generator import ChurnSettings, generate_churn

SETTINGS = DriftConfig()


def _number(value: float | None) -> float:
    """A statistic the comparison computed (None only for a feature it could not compare)."""
    assert value is not None
    return value


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
    assert max(_number(f.psi) for f in result.features) < 0.05


def test_a_known_shift_is_flagged_on_that_feature_and_what_derives_from_it(config) -> None:
    reference = generate_churn(ChurnSettings(rows=5_000, seed=1))
    current = generate_churn(ChurnSettings(rows=5_000, seed=2, numeric_shift={"monthly_charges": 1.0}))
    result = detect_drift(reference, current, config.features.numeric, config.features.categorical, SETTINGS)
    assert result.drifted == ["monthly_charges", "total_charges"]  # total = monthly x tenure
    shifted = next(f for f in result.features if f.feature == "monthly_charges")
    assert shifted.psi is not None and shifted.psi > 0.25
    assert shifted.ks_pvalue is not None and shifted.ks_pvalue < 1e-10
    assert "PSI" in shifted.reason and "KS" in shifted.reason


def _categorical_psi(reference: pd.Series, current: pd.Series) -> float:
    return _number(categorical_drift("c", CategoricalProfile(category_counts(reference)), current, SETTINGS).psi)


def _numeric_psi(reference: pd.Series, current: pd.Series) -> float:
    profile = numeric_profile(reference.to_numpy(dtype=float), 10, None, np.random.default_rng(0))
    return _number(numeric_drift("x", profile, current, SETTINGS).psi)


def test_categorical_shift_and_new_categories() -> None:
    reference = pd.Series(["a"] * 80 + ["b"] * 20)
    assert _categorical_psi(reference, reference) == 0.0
    moved = pd.Series(["a"] * 20 + ["b"] * 80)
    assert _categorical_psi(reference, moved) > 1.0
    unseen = pd.Series(["a"] * 80 + ["c"] * 20)  # a category the reference never had
    assert _categorical_psi(reference, unseen) > 0.5


def test_numeric_bins_come_from_reference_quantiles_and_missing_is_a_bin() -> None:
    reference = pd.Series(np.arange(100, dtype=float))
    assert len(quantile_edges(reference.to_numpy(), 10)) == 9
    with_gaps = reference.copy()
    with_gaps[:30] = np.nan
    assert _numeric_psi(reference, with_gaps) > 0.2
    ties = pd.Series([1.0] * 99 + [2.0])
    assert len(quantile_edges(ties.to_numpy(), 10)) == 1  # duplicate edges collapse


def test_missing_feature_and_unparseable_values() -> None:
    reference = pd.DataFrame({"x": np.arange(200.0), "c": ["a", "b"] * 100})
    current = pd.DataFrame({"x": ["oops"] * 200})
    result = detect_drift(reference, current, ["x"], ["c"], SETTINGS)
    by_name = {f.feature: f for f in result.features}
    assert by_name["c"].drifted and by_name["c"].reason == "missing from current data"
    assert by_name["x"].drifted and by_name["x"].ks_pvalue is None  # nothing parses: all missing
    assert result.to_dict()["drifted"] == ["x", "c"]
    empty_reference = detect_drift(reference.assign(x=np.nan), reference, ["x"], ["c"], SETTINGS)
    assert empty_reference.drifted == ["x"]
    assert empty_reference.features[0].reason == "no numeric values in reference data"


def test_a_significant_but_tiny_ks_difference_is_not_drift_on_either_side() -> None:
    # Big tables make any difference significant: a 0.05-std shift has p << 0.001 but D ~ 0.02 (< 0.1), PSI ~ 0.003.
    rng = np.random.default_rng(0)
    reference = pd.DataFrame({"x": rng.normal(0, 1, 50_000)})
    current = pd.DataFrame({"x": rng.normal(0.05, 1, 50_000)})
    pull_request = detect_drift(reference, current, ["x"], [], SETTINGS).features[0]
    assert _number(pull_request.ks_pvalue) < SETTINGS.ks_alpha
    assert _number(pull_request.ks_statistic) < SETTINGS.ks_min_statistic
    assert not pull_request.drifted and pull_request.reason == "stable"
    profile = profile_table(reference, ["x"], [], SETTINGS.bins, sample_size=2000)  # what the monitor stores
    monitor = compare(profile, current, SETTINGS).features[0]
    assert not monitor.drifted
    large = detect_drift(reference, current.assign(x=current["x"] + 0.5), ["x"], [], SETTINGS).features[0]
    assert large.drifted and large.reasons[-1].startswith("KS D ")


def test_the_pull_request_and_the_monitor_use_one_comparison(config) -> None:
    reference = generate_churn(ChurnSettings(rows=3_000, seed=1))
    current = generate_churn(ChurnSettings(rows=3_000, seed=2, numeric_shift={"age": 0.5}))
    features = config.features
    table_vs_table = detect_drift(reference, current, features.numeric, features.categorical, SETTINGS)
    profile = profile_table(reference, features.numeric, features.categorical, SETTINGS.bins)  # every value kept
    against_profile = compare(profile, current, SETTINGS, "current data", every_pvalue=True)
    assert table_vs_table.features == against_profile.features
    assert table_vs_table.drifted == ["age"]


def test_one_settings_section_and_old_keys_name_their_new_place() -> None:
    raw = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    assert set(raw["drift"]) == {"psi_threshold", "ks_alpha", "ks_min_statistic", "bins"}
    assert not {"psi_threshold", "ks_alpha", "ks_min_statistic", "bins"} & set(raw["monitor"])
    old_monitor = {**raw, "monitor": {**raw["monitor"], "psi_threshold": 0.3}}
    with pytest.raises(ConfigError, match=r"monitor\.psi_threshold -> drift\.psi_threshold"):
        parse_config(old_monitor)
    old_drift = {**raw, "drift": {"psi_threshold": 0.2, "ks_pvalue": 0.01}}
    with pytest.raises(ConfigError, match="ks_pvalue is now ks_alpha"):
        parse_config(old_drift)
