"""Monitoring logic: drift flags exactly the shifted features, KPI breaches, and edge cases are never "healthy"."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from support.monitor_data import SHIFTED, profile_of, reference_frame, shifted_period

from slipway.config import KpiBound, MonitorConfig
from slipway.data.drift import UNKNOWN, compare, psi_of_counts
from slipway.data.generator import ChurnSettings, generate_churn
from slipway.monitoring.kpis import measure_kpis, task_outcomes
from slipway.monitoring.profile import ReferenceProfile
from slipway.monitoring.verdict import Status, evaluate_window, judge, select_windows

SEEDS = (101, 202, 303)
WINDOW = 2000


@pytest.fixture(scope="module")
def reference(config) -> ReferenceProfile:
    return profile_of(config, reference_frame())


def _window(frame: pd.DataFrame, monitor_model, config, labels: bool = True) -> pd.DataFrame:
    window = frame.copy()
    window["prediction"] = monitor_model.predict_proba(frame[config.features.all])[:, 1]
    window["actual"] = frame[config.data.target].astype(float) if labels else np.nan
    return window


def _evaluate(reference, window, config, settings: MonitorConfig | None = None, task: str = "binary"):
    return evaluate_window(reference, window, settings or config.monitor, 0.5, config.drift, task)


@pytest.mark.parametrize("seed", SEEDS)
def test_flags_exactly_the_shifted_features(config, reference, monitor_model, seed) -> None:
    result = _evaluate(reference, _window(shifted_period(WINDOW, seed), monitor_model, config), config)
    assert set(result.drifted) == SHIFTED


@pytest.mark.parametrize("seed", SEEDS)
def test_no_false_alarm_on_an_unshifted_period_of_the_same_size(config, reference, monitor_model, seed) -> None:
    frame = generate_churn(ChurnSettings(rows=WINDOW, seed=seed, id_offset=10_000_000))
    result = _evaluate(reference, _window(frame, monitor_model, config), config)
    assert result.conclusive and result.drifted == [] and result.breached == []


def test_a_shift_in_monthly_charges_also_moves_total_charges(config, reference) -> None:
    # total_charges = tenure x monthly charges in the generator: both must be flagged, nothing else.
    frame = generate_churn(ChurnSettings(rows=WINDOW, seed=5, numeric_shift={"monthly_charges": 1.0}))
    drifts = compare(reference, frame, config.drift).features
    assert {f.feature for f in drifts if f.drifted} == {"monthly_charges", "total_charges"}


@pytest.mark.parametrize("seed", SEEDS)
def test_kpi_breach_when_labels_show_degraded_performance(config, reference, monitor_model, seed) -> None:
    frame = generate_churn(ChurnSettings(rows=WINDOW, seed=seed, concept_shift=0.8))
    result = _evaluate(reference, _window(frame, monitor_model, config), config)
    assert result.drifted == []  # the inputs look the same: only the labels tell
    assert "roc_auc" in result.breached


def _stream(config, monitor_model, frames: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """Windows newest first from periods given oldest first."""
    return [_window(frame, monitor_model, config) for frame in reversed(frames)]


def _unshifted(seed: int = 8, rows: int = WINDOW) -> pd.DataFrame:
    return generate_churn(ChurnSettings(rows=rows, seed=seed, id_offset=20_000_000))


def test_drift_and_kpi_breach_together(config, reference, monitor_model) -> None:
    windows = _stream(config, monitor_model, [shifted_period(WINDOW, 9 + i) for i in range(3)])
    for window in windows:
        window["actual"] = np.random.default_rng(0).integers(0, 2, len(window)).astype(float)  # labels unrelated
    result = judge(reference, windows, config.monitor, 0.5, config.drift)
    assert result.status is Status.DRIFT_AND_KPI_BREACH and result.status.exit_code == 5
    assert set(result.drifted) == SHIFTED and "roc_auc" in result.breached


def test_one_drifted_window_is_not_an_alert_two_are(config, reference, monitor_model) -> None:
    rule = config.monitor.alert
    assert (rule.breaches, rule.windows) == (2, 3)
    calm = [_unshifted(seed) for seed in (31, 32, 33)]
    once = judge(
        reference, _stream(config, monitor_model, [*calm[:2], shifted_period(WINDOW, 34)]), config.monitor, 0.5
    )
    assert once.status is Status.HEALTHY and once.drifted == []
    assert "age drifted in 1 of 3 windows (an alert needs 2)" in once.notes
    assert "age" in once.latest.drifted  # the newest window shows it, the verdict waits for a second one
    twice = judge(
        reference,
        _stream(config, monitor_model, [calm[0], shifted_period(WINDOW, 35), shifted_period(WINDOW, 36)]),
        config.monitor,
        0.5,
    )
    assert twice.status is Status.DRIFT and set(twice.drifted) == SHIFTED
    assert twice.drift_count("age") == 2


def test_a_kpi_out_of_range_in_k_windows_alerts(config, reference, monitor_model) -> None:
    broken = [generate_churn(ChurnSettings(rows=WINDOW, seed=40 + i, concept_shift=0.8)) for i in range(2)]
    result = judge(reference, _stream(config, monitor_model, [_unshifted(39), *broken]), config.monitor, 0.5)
    assert result.status is Status.KPI_BREACH and result.status.exit_code == 4
    assert "roc_auc" in result.breached and result.breach_count("roc_auc") == 2


@pytest.mark.parametrize("seed", [51, 52, 53, 54])
def test_no_alert_on_unshifted_periods_at_the_default_rule(config, reference, monitor_model, seed) -> None:
    log = _window(generate_churn(ChurnSettings(rows=6000, seed=seed, id_offset=30_000_000)), monitor_model, config)
    windows = select_windows(log, config.monitor.model_copy(update={"window_rows": WINDOW, "window_days": None}))
    result = judge(reference, windows, config.monitor, 0.5, config.drift)
    assert [len(w) for w in windows] == [WINDOW] * 3
    assert result.status is Status.HEALTHY, result.summary()


@pytest.mark.parametrize("rows", [0, 1, 50])
def test_empty_or_tiny_window_is_inconclusive_not_healthy(config, reference, monitor_model, rows) -> None:
    frame = generate_churn(ChurnSettings(rows=rows, seed=1))
    window = _window(frame, monitor_model, config) if rows else frame.assign(prediction=[], actual=[])
    result = judge(reference, select_windows(window, config.monitor), config.monitor, 0.5, config.drift)
    assert result.status is Status.INSUFFICIENT_DATA
    assert result.status.exit_code == 6
    assert not result.status.alert
    assert f"only {rows} predictions" in result.notes[0]


def test_fewer_windows_than_the_rule_needs_is_inconclusive_even_when_drifted(config, reference, monitor_model) -> None:
    log = _window(shifted_period(500, 7), monitor_model, config)  # one window of 500: 300 <= 500 < 2 x 300
    result = judge(reference, select_windows(log, config.monitor), config.monitor, 0.5, config.drift)
    assert [w.rows for w in result.windows] == [500] and set(result.latest.drifted) == SHIFTED
    assert result.status is Status.INSUFFICIENT_DATA
    assert "an alert needs 2 of the last 3" in result.notes[0]


def test_missing_feature_is_flagged_with_a_reason(config, reference, monitor_model) -> None:
    window = _window(generate_churn(ChurnSettings(rows=WINDOW, seed=3)), monitor_model, config).drop(columns=["age"])
    result = _evaluate(reference, window, config)
    assert result.drifted == ["age"]
    age = next(f for f in result.features if f.feature == "age")
    assert age.reasons == ["missing from the live window"]


def test_unknown_categories_are_pooled_named_and_drift_when_frequent(config, reference) -> None:
    frame = generate_churn(ChurnSettings(rows=WINDOW, seed=4))
    frame["contract"] = frame["contract"].astype(object)
    frame.loc[: WINDOW // 3, "contract"] = "weekly"  # a third of the window in a category training never saw
    frame.loc[WINDOW - 2 :, "internet_service"] = "satellite"  # two rows only: named, but not drift
    drifts = {f.feature: f for f in compare(reference, frame, config.drift).features}
    contract, internet = drifts["contract"], drifts["internet_service"]
    assert contract.drifted and UNKNOWN in contract.bins
    assert "'weekly'" in contract.notes[0]
    assert not internet.drifted
    assert "'satellite' (2)" in internet.notes[0]


def test_non_numeric_values_are_reported_not_fatal(config, reference) -> None:
    frame = generate_churn(ChurnSettings(rows=WINDOW, seed=6))
    frame["age"] = frame["age"].astype(object)
    frame.loc[:9, "age"] = "old"
    age = next(f for f in compare(reference, frame, config.drift).features if f.feature == "age")
    assert "10 non-numeric values counted as missing" in age.notes
    all_text = frame.assign(age="n/a")
    age = next(f for f in compare(reference, all_text, config.drift).features if f.feature == "age")
    assert age.drifted and age.reasons == ["no numeric values in the live window"]


def _binary(scores: np.ndarray, labels: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"prediction": scores, "actual": labels})


def test_too_few_labels_skip_kpis_with_a_note(config) -> None:
    labels = np.full(500, np.nan)
    labels[:10] = 1
    outcomes = task_outcomes(_binary(np.linspace(0, 1, 500), labels), "binary")
    kpis, notes = measure_kpis(outcomes, "binary", 0.5, config.monitor)
    assert [k.name for k in kpis] == ["positive_rate"]
    assert "10 labelled predictions" in notes[0] and "roc_auc, precision, recall not evaluated" in notes[0]


def test_positive_rate_band_is_checked_without_labels() -> None:
    settings = MonitorConfig(kpis={"positive_rate": KpiBound(min=0.05, max=0.45)})
    outcomes = task_outcomes(_binary(np.full(400, 0.9), np.full(400, np.nan)), "binary")
    kpis, _ = measure_kpis(outcomes, "binary", 0.5, settings)
    assert kpis[0].name == "positive_rate" and kpis[0].value == 1.0 and kpis[0].breached


def _labelled(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    scores = rng.random(rows)
    return _binary(scores, (rng.random(rows) < scores).astype(float))


def test_kpi_intervals_contain_the_value_and_narrow_with_more_labels(config) -> None:
    names = ("roc_auc", "precision", "recall", "positive_rate")
    few, many = (
        {
            k.name: k
            for k in measure_kpis(task_outcomes(_labelled(rows, 3), "binary"), "binary", 0.5, config.monitor, names)[0]
        }
        for rows in (400, 6400)
    )
    for name in names:
        widths = []
        for kpi in (few[name], many[name]):
            interval = kpi.interval
            assert interval is not None and kpi.value is not None and interval.low <= kpi.value <= interval.high, kpi
            widths.append(interval.half_width)
        # 16x the rows: about a quarter of the width (1 / sqrt(n))
        few_width, many_width = widths
        assert many_width < 0.4 * few_width, name


def test_kpi_values_are_the_task_metrics(config) -> None:
    from sklearn.metrics import precision_score, roc_auc_score

    window = _labelled(1000, 4)
    kpis = {k.name: k.value for k in measure_kpis(task_outcomes(window, "binary"), "binary", 0.5, config.monitor)[0]}
    y, s = window["actual"].to_numpy(int), window["prediction"].to_numpy()
    assert kpis["roc_auc"] == pytest.approx(roc_auc_score(y, s), abs=1e-6)
    assert kpis["precision"] == pytest.approx(precision_score(y, s >= 0.5), abs=1e-6)
    assert kpis["positive_rate"] == pytest.approx(np.mean(s >= 0.5), abs=1e-6)


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


def test_windows_are_the_newest_rows_of_the_period_cut_in_equal_consecutive_parts() -> None:
    now = pd.Timestamp("2026-11-23T12:00:00Z")
    hours_ago = [0, 1, 300, 3, 2, 5, 4, 6]  # unsorted on purpose; 300 hours is out of a 7-day period
    log = pd.DataFrame({"timestamp": [now - pd.Timedelta(hours=h) for h in hours_ago], "hours_ago": hours_ago})
    settings = MonitorConfig(window_days=7, window_rows=2, min_rows=1)
    windows = select_windows(log, settings, now=now)
    assert [w["hours_ago"].tolist() for w in windows] == [[1, 0], [3, 2], [5, 4]]  # newest first, oldest row first
    short = settings.model_copy(update={"min_rows": 3, "window_rows": 3})  # 7 rows in the period: 2 windows of 3
    assert [w["hours_ago"].tolist() for w in select_windows(log, short, now=now)] == [[2, 1, 0], [5, 4, 3]]
    one = MonitorConfig(window_days=None, window_rows=10, min_rows=1, alert={"windows": 1, "breaches": 1})
    assert [len(w) for w in select_windows(log, one, now=now)] == [8]  # no time limit: the old row is in


def test_multiclass_kpis_compare_served_and_true_classes(config, reference) -> None:
    window = _unshifted()
    bands = pd.cut(window["tenure_months"], [-1, 12, 36, 10_000], labels=["new", "settled", "loyal"]).astype(str)
    window["label"] = bands.to_numpy()  # the served class
    window["actual"] = bands.to_numpy()
    wrong = window.index[:500]  # a quarter of the answers turn out wrong
    window.loc[wrong, "actual"] = np.where(window.loc[wrong, "label"] == "new", "loyal", "new")
    window.loc[window.index[-100:], "actual"] = None  # not labelled yet
    settings = config.monitor.model_copy(update={"kpis": {"accuracy": KpiBound(min=0.8)}})
    result = _evaluate(reference, window, config, settings, task="multiclass")
    kpis = {k.name: k for k in result.kpis}
    assert kpis["accuracy"].value == pytest.approx(1400 / 1900, abs=1e-6) and kpis["accuracy"].rows == 1900
    assert kpis["accuracy"].breached and not kpis["f1_macro"].breached  # f1_macro has no bound
    assert result.breached == ["accuracy"] and result.labelled_rows == 1900


def test_multiclass_classes_match_however_the_files_spell_them(config, reference) -> None:
    window = _unshifted()
    window["label"] = np.resize([0, 1, 2], len(window))  # served as JSON integers
    window["actual"] = [float(v) for v in window["label"]]  # read back from a table as floats
    result = _evaluate(reference, window, config, task="multiclass")
    assert {k.name: k.value for k in result.kpis} == {"accuracy": 1.0, "f1_macro": 1.0}


def test_regression_kpis_measure_the_served_values_against_the_truth(config, reference) -> None:
    window = _unshifted()
    rng = np.random.default_rng(4)
    window["actual"] = window["monthly_charges"]
    window["prediction"] = window["actual"] + rng.normal(0, 5.0, len(window))
    window["label"] = None
    healthy = _evaluate(reference, window, config, config.monitor.model_copy(update={"kpis": {}}), "regression")
    kpis = {k.name: k.value for k in healthy.kpis}
    assert kpis["rmse"] == pytest.approx(5.0, rel=0.05) and kpis["mae"] == pytest.approx(5.0 * 0.798, rel=0.05)
    assert healthy.breached == []
    worse = window.assign(prediction=window["prediction"] + 20)  # the monitor_model drifts off by 20
    bounded = config.monitor.model_copy(update={"kpis": {"rmse": KpiBound(max=10.0)}})
    assert _evaluate(reference, worse, config, bounded, "regression").breached == ["rmse"]


def test_too_few_labels_for_a_task_s_kpis_is_a_note_not_a_verdict(config, reference) -> None:
    window = _unshifted()
    window["prediction"], window["actual"] = 1.0, np.nan
    window.loc[window.index[:10], "actual"] = 2.0
    result = _evaluate(reference, window, config, task="regression")
    assert result.kpis == [] and result.breached == []
    assert any("10 labelled predictions" in note and "rmse, mae not evaluated" in note for note in result.notes)
