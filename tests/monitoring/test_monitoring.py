"""Monitoring logic: drift flags exactly the shifted features, KPI breaches, and edge cases are never "healthy"."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from support.monitor_data import SHIFTED, profile_of, reference_frame, shifted_period

from slipway.config import KpiBound, MonitorConfig
from slipway.data.generator import ChurnSettings, generate_churn
from slipway.monitoring.checks import UNKNOWN, feature_drift, psi_of_counts
from slipway.monitoring.kpis import compute_kpis
from slipway.monitoring.profile import ReferenceProfile
from slipway.monitoring.verdict import Status, evaluate_window, select_window

SEEDS = (101, 202, 303)
WINDOW = 2000


@pytest.fixture(scope="module")
def reference(config) -> ReferenceProfile:
    return profile_of(config, reference_frame())


def _window(frame: pd.DataFrame, model, config, labels: bool = True) -> pd.DataFrame:
    window = frame.copy()
    window["prediction"] = model.predict_proba(frame[config.features.all])[:, 1]
    window["actual"] = frame[config.data.target].astype(float) if labels else np.nan
    return window


@pytest.mark.parametrize("seed", SEEDS)
def test_flags_exactly_the_shifted_features(config, reference, monitor_model, seed) -> None:
    window = _window(shifted_period(WINDOW, seed), monitor_model, config)
    result = evaluate_window(reference, window, config.monitor, config.evaluate.threshold)
    assert set(result.drifted) == SHIFTED
    assert result.status in (Status.DRIFT, Status.DRIFT_AND_KPI_BREACH)
    assert result.status.alert


@pytest.mark.parametrize("seed", SEEDS)
def test_no_false_alarm_on_an_unshifted_period_of_the_same_size(config, reference, monitor_model, seed) -> None:
    frame = generate_churn(ChurnSettings(rows=WINDOW, seed=seed, id_offset=10_000_000))
    result = evaluate_window(
        reference, _window(frame, monitor_model, config), config.monitor, config.evaluate.threshold
    )
    assert result.drifted == []
    assert result.breached == []
    assert result.status is Status.HEALTHY
    assert result.status.exit_code == 0


def test_a_shift_in_monthly_charges_also_moves_total_charges(config, reference) -> None:
    # total_charges = tenure x monthly charges in the generator: both must be flagged, nothing else.
    frame = generate_churn(ChurnSettings(rows=WINDOW, seed=5, numeric_shift={"monthly_charges": 1.0}))
    drifts = feature_drift(reference, frame, config.monitor)
    assert {f.feature for f in drifts if f.drifted} == {"monthly_charges", "total_charges"}


@pytest.mark.parametrize("seed", SEEDS)
def test_kpi_breach_when_labels_show_degraded_performance(config, reference, monitor_model, seed) -> None:
    frame = generate_churn(ChurnSettings(rows=WINDOW, seed=seed, concept_shift=0.8))
    result = evaluate_window(
        reference, _window(frame, monitor_model, config), config.monitor, config.evaluate.threshold
    )
    assert result.drifted == []  # the inputs look the same: only the labels tell
    assert "roc_auc" in result.breached
    assert result.status is Status.KPI_BREACH
    assert result.status.exit_code == 4


def test_drift_and_kpi_breach_together(config, reference, monitor_model) -> None:
    frame = shifted_period(WINDOW, 9)
    window = _window(frame, monitor_model, config)
    window["actual"] = np.random.default_rng(0).integers(0, 2, len(window)).astype(float)  # labels unrelated
    result = evaluate_window(reference, window, config.monitor, config.evaluate.threshold)
    assert result.status is Status.DRIFT_AND_KPI_BREACH
    assert result.status.exit_code == 5


@pytest.mark.parametrize("rows", [0, 1, 50])
def test_empty_or_tiny_window_is_inconclusive_not_healthy(config, reference, monitor_model, rows) -> None:
    frame = generate_churn(ChurnSettings(rows=rows, seed=1))
    window = _window(frame, monitor_model, config) if rows else frame.assign(prediction=[], actual=[])
    result = evaluate_window(reference, window, config.monitor, config.evaluate.threshold)
    assert result.status is Status.INSUFFICIENT_DATA
    assert result.status.exit_code == 6
    assert not result.status.alert
    assert f"only {rows} predictions" in result.notes[0]


def test_missing_feature_is_flagged_with_a_reason(config, reference, monitor_model) -> None:
    window = _window(generate_churn(ChurnSettings(rows=WINDOW, seed=3)), monitor_model, config).drop(columns=["age"])
    result = evaluate_window(reference, window, config.monitor, config.evaluate.threshold)
    assert result.drifted == ["age"]
    age = next(f for f in result.features if f.feature == "age")
    assert age.reasons == ["missing from the live window"]
    assert result.status is Status.DRIFT


def test_unknown_categories_are_pooled_named_and_drift_when_frequent(config, reference) -> None:
    frame = generate_churn(ChurnSettings(rows=WINDOW, seed=4))
    frame["contract"] = frame["contract"].astype(object)
    frame.loc[: WINDOW // 3, "contract"] = "weekly"  # a third of the window in a category training never saw
    frame.loc[WINDOW - 2 :, "internet_service"] = "satellite"  # two rows only: named, but not drift
    drifts = {f.feature: f for f in feature_drift(reference, frame, config.monitor)}
    contract, internet = drifts["contract"], drifts["internet_service"]
    assert contract.drifted and UNKNOWN in contract.bins
    assert "'weekly'" in contract.notes[0]
    assert not internet.drifted
    assert "'satellite' (2)" in internet.notes[0]


def test_non_numeric_values_are_reported_not_fatal(config, reference) -> None:
    frame = generate_churn(ChurnSettings(rows=WINDOW, seed=6))
    frame["age"] = frame["age"].astype(object)
    frame.loc[:9, "age"] = "old"
    age = next(f for f in feature_drift(reference, frame, config.monitor) if f.feature == "age")
    assert "10 non-numeric values counted as missing" in age.notes
    all_text = frame.assign(age="n/a")
    age = next(f for f in feature_drift(reference, all_text, config.monitor) if f.feature == "age")
    assert age.drifted and age.reasons == ["no numeric values in the live window"]


def test_too_few_labels_skip_kpis_with_a_note(config) -> None:
    scores = np.linspace(0, 1, 500)
    labels = np.full(500, np.nan)
    labels[:10] = 1
    kpis, notes = compute_kpis(scores, labels, 0.5, config.monitor)
    assert [k.name for k in kpis] == ["positive_rate"]
    assert "10 labelled predictions" in notes[0]


def test_positive_rate_band_is_checked_without_labels(config) -> None:
    settings = MonitorConfig(kpis={"positive_rate": KpiBound(min=0.05, max=0.45)})
    kpis, _ = compute_kpis(np.full(400, 0.9), np.full(400, np.nan), 0.5, settings)
    assert kpis[0].name == "positive_rate" and kpis[0].value == 1.0 and kpis[0].breached


def test_psi_is_zero_for_equal_shares_and_grows_with_difference() -> None:
    assert psi_of_counts(np.array([10, 20, 30]), np.array([1, 2, 3])) == pytest.approx(0.0)
    small = psi_of_counts(np.array([50, 50]), np.array([55, 45]))
    large = psi_of_counts(np.array([50, 50]), np.array([80, 20]))
    assert 0 < small < large
    # the textbook value: sum((a - e) * ln(a / e))
    assert large == pytest.approx((0.8 - 0.5) * np.log(0.8 / 0.5) + (0.2 - 0.5) * np.log(0.2 / 0.5))


def test_profile_round_trips_through_json(reference) -> None:
    again = ReferenceProfile.from_json(reference.to_json())
    assert again == reference
    assert len(reference.to_json()) < 150_000  # small enough to commit next to the metrics


def test_profile_of_another_version_is_refused(reference) -> None:
    with pytest.raises(ValueError, match="version"):
        ReferenceProfile.from_json(reference.to_json().replace('"version": 1', '"version": 99'))


def test_window_keeps_the_newest_rows_of_the_period() -> None:
    now = pd.Timestamp("2026-11-23T12:00:00Z")
    days_ago = [0, 1, 10, 3, 2]  # unsorted on purpose
    log = pd.DataFrame({"timestamp": [now - pd.Timedelta(days=d) for d in days_ago], "days_ago": days_ago})
    window = select_window(log, MonitorConfig(window_days=7, window_rows=3), now=now)
    assert window["days_ago"].tolist() == [2, 1, 0]  # oldest first, the 10-day-old row is out, at most 3 rows
    assert len(select_window(log, MonitorConfig(window_days=None, window_rows=10), now=now)) == 5


def _unshifted(seed: int = 8) -> pd.DataFrame:
    return generate_churn(ChurnSettings(rows=WINDOW, seed=seed, id_offset=20_000_000))


def test_multiclass_kpis_compare_served_and_true_classes(config, reference) -> None:
    window = _unshifted()
    bands = pd.cut(window["tenure_months"], [-1, 12, 36, 10_000], labels=["new", "settled", "loyal"]).astype(str)
    window["label"] = bands.to_numpy()  # the served class
    window["actual"] = bands.to_numpy()
    wrong = window.index[:500]  # a quarter of the answers turn out wrong
    window.loc[wrong, "actual"] = np.where(window.loc[wrong, "label"] == "new", "loyal", "new")
    window.loc[window.index[-100:], "actual"] = None  # not labelled yet
    settings = config.monitor.model_copy(update={"kpis": {"accuracy": KpiBound(min=0.8)}})
    result = evaluate_window(reference, window, settings, 0.5, task="multiclass")
    kpis = {k.name: k for k in result.kpis}
    assert kpis["accuracy"].value == pytest.approx(1400 / 1900, abs=1e-6) and kpis["accuracy"].rows == 1900
    assert kpis["accuracy"].breached and not kpis["f1_macro"].breached  # f1_macro has no bound
    assert result.status is Status.KPI_BREACH and result.labelled_rows == 1900


def test_multiclass_classes_match_however_the_files_spell_them(config, reference) -> None:
    window = _unshifted()
    window["label"] = np.resize([0, 1, 2], len(window))  # served as JSON integers
    window["actual"] = [float(v) for v in window["label"]]  # read back from a table as floats
    result = evaluate_window(reference, window, config.monitor, 0.5, task="multiclass")
    assert {k.name: k.value for k in result.kpis} == {"accuracy": 1.0, "f1_macro": 1.0}


def test_regression_kpis_measure_the_served_values_against_the_truth(config, reference) -> None:
    window = _unshifted()
    rng = np.random.default_rng(4)
    window["actual"] = window["monthly_charges"]
    window["prediction"] = window["actual"] + rng.normal(0, 5.0, len(window))
    window["label"] = None
    healthy = evaluate_window(reference, window, config.monitor.model_copy(update={"kpis": {}}), 0.5, task="regression")
    kpis = {k.name: k.value for k in healthy.kpis}
    assert kpis["rmse"] == pytest.approx(5.0, rel=0.05) and kpis["mae"] == pytest.approx(5.0 * 0.798, rel=0.05)
    assert healthy.status is Status.HEALTHY
    worse = window.assign(prediction=window["prediction"] + 20)  # the model drifts off by 20
    bounded = config.monitor.model_copy(update={"kpis": {"rmse": KpiBound(max=10.0)}})
    result = evaluate_window(reference, worse, bounded, 0.5, task="regression")
    assert result.breached == ["rmse"] and result.status is Status.KPI_BREACH


def test_too_few_labels_for_a_task_s_kpis_is_a_note_not_a_verdict(config, reference) -> None:
    window = _unshifted()
    window["prediction"], window["actual"] = 1.0, np.nan
    window.loc[window.index[:10], "actual"] = 2.0
    result = evaluate_window(reference, window, config.monitor, 0.5, task="regression")
    assert result.kpis == [] and result.status is Status.HEALTHY
    assert any("10 labelled predictions" in note and "RMSE and MAE not evaluated" in note for note in result.notes)
