"""The quality gate: absolute limits, regressions with direction, first PR without base metrics, and the three
verdicts of a regression decided by the interval of the change (point mode: the values as they are)."""

from __future__ import annotations

import pytest

from slipway.config import GateConfig
from slipway.metrics.bootstrap import Interval, rows_to_decide
from slipway.review.comparison import Change, Comparison
from slipway.review.gate import evaluate_gate, render_text, worse_by

SETTINGS = GateConfig(
    minimum={"roc_auc": 0.75},
    maximum={"log_loss": 0.6},
    max_regression={"roc_auc": 0.01, "log_loss": 0.02},
)
BASE = {"roc_auc": 0.81, "log_loss": 0.48}


def test_worse_by_follows_the_metric_direction() -> None:
    lower = ["log_loss"]
    assert worse_by("roc_auc", 0.80, 0.81, lower) == pytest.approx(0.01)
    assert worse_by("roc_auc", 0.82, 0.81, lower) == pytest.approx(-0.01)
    assert worse_by("log_loss", 0.50, 0.48, lower) == pytest.approx(0.02)
    assert worse_by("log_loss", 0.45, 0.48, lower) == pytest.approx(-0.03)


def test_an_equal_or_better_model_passes() -> None:
    result = evaluate_gate({"roc_auc": 0.812, "log_loss": 0.47}, BASE, SETTINGS)
    assert result.passed and result.failures == []
    assert len(result.checks) == 4
    assert render_text(result).startswith("gate PASSED")


def test_a_regression_within_the_allowance_passes_and_beyond_it_fails() -> None:
    assert evaluate_gate({"roc_auc": 0.805, "log_loss": 0.49}, BASE, SETTINGS).passed
    result = evaluate_gate({"roc_auc": 0.78, "log_loss": 0.55}, BASE, SETTINGS)
    assert not result.passed
    messages = [c.message for c in result.failures]
    assert messages == [
        "roc_auc fell by 0.0300 (3.7%): 0.8100 -> 0.7800, more than the allowed 0.01",
        "log_loss rose by 0.0700 (14.6%): 0.4800 -> 0.5500, more than the allowed 0.02",
    ]
    assert "FAIL roc_auc fell by 0.0300" in render_text(result)


def test_absolute_limits_apply_without_base_metrics() -> None:
    result = evaluate_gate({"roc_auc": 0.70, "log_loss": 0.65}, None, SETTINGS)
    assert [c.kind for c in result.failures] == ["minimum", "maximum"]
    assert result.failures[0].message == "roc_auc 0.7000 is below the minimum 0.75"
    assert result.failures[1].message == "log_loss 0.6500 is above the maximum 0.6"
    assert result.notes == ["no base metrics (first pull request?): only the absolute limits apply"]
    assert evaluate_gate({"roc_auc": 0.80, "log_loss": 0.5}, None, SETTINGS).passed


def test_a_missing_metric_fails_and_a_metric_new_in_this_pr_is_noted() -> None:
    result = evaluate_gate({"log_loss": 0.48}, BASE, SETTINGS)
    assert [c.message for c in result.failures] == [
        "roc_auc is missing from the metrics",
        "roc_auc is missing from the metrics",
    ]
    noted = evaluate_gate({"roc_auc": 0.8, "log_loss": 0.48}, {"roc_auc": 0.8}, SETTINGS)
    assert noted.passed and noted.notes == ["log_loss: not in the base metrics, regression not checked"]


def test_negative_allowance_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="max_regression must be >= 0"):
        GateConfig(max_regression={"roc_auc": -0.1})


def _comparison(**changes: tuple[float, float, float]) -> Comparison:
    """Changes new - base as (delta, low, high) on 2,000 paired rows."""
    found = {m: Change(m, d, Interval(lo, hi), "paired", 2000) for m, (d, lo, hi) in changes.items()}
    return Comparison("paired", 0.95, found, "paired: both models scored on the same 2,000 test rows")


INTERVAL = GateConfig(max_regression={"roc_auc": 0.01, "log_loss": 0.02}, lower_is_better=["log_loss"])


def test_a_regression_is_decided_by_where_its_interval_lies() -> None:
    base = {"roc_auc": 0.81, "log_loss": 0.48}
    # roc_auc fell by 0.015, surely by more than 0.011: fail; log_loss rose by 0.005, surely by less than 0.015: pass
    failed = evaluate_gate(
        {"roc_auc": 0.795, "log_loss": 0.485},
        base,
        INTERVAL,
        _comparison(roc_auc=(-0.015, -0.019, -0.011), log_loss=(0.005, -0.005, 0.015)),
    )
    assert failed.verdict == "fail" and not failed.passed
    (fail,) = failed.failures
    assert fail.message == (
        "roc_auc fell by 0.0150 (95% interval 0.0110 to 0.0190, paired on 2,000 rows): 0.8100 -> 0.7950, "
        "worse than the allowed 0.01 with 95% confidence"
    )
    assert fail.worse_low == pytest.approx(0.011) and fail.worse_high == pytest.approx(0.019)
    passed = [c for c in failed.checks if c.verdict == "pass"]
    assert [c.message for c in passed] == [
        "log_loss rose by 0.0050 (95% interval -0.0050 to 0.0150, paired on 2,000 rows): 0.4800 -> 0.4850, "
        "within the allowed 0.02"
    ]
    assert failed.notes == ["comparison with the base — paired: both models scored on the same 2,000 test rows"]


def test_an_interval_straddling_the_allowance_is_inconclusive_and_passes_with_a_warning() -> None:
    base = {"roc_auc": 0.81, "log_loss": 0.48}
    # roc_auc fell by 0.015, beyond the 0.01 allowed as a value (the point gate fails it), but the interval says
    # anything from 0.005 to 0.025
    current = {"roc_auc": 0.795, "log_loss": 0.48}
    result = evaluate_gate(current, base, INTERVAL, _comparison(roc_auc=(-0.015, -0.025, -0.005)))
    assert result.verdict == "inconclusive" and result.passed and result.failures == []
    (check,) = result.inconclusive
    assert check.more_rows == rows_to_decide(2000, 0.015, Interval(0.005, 0.025), 0.01) == 6_000
    assert check.message.endswith(
        "too uncertain to tell against the allowed 0.01: about 6,000 more test rows would decide it"
    )
    text = render_text(result)
    assert text.startswith("gate INCONCLUSIVE (passes with a warning: 1 of 2 checks)\n  WARN roc_auc fell by 0.0150")
    assert "log_loss: no interval for the change, compared as values" in result.notes
    assert result.to_dict()["verdict"] == "inconclusive" and result.to_dict()["checks"][0]["passed"] is True
    point = evaluate_gate(
        current, base, INTERVAL.model_copy(update={"mode": "point"}), _comparison(roc_auc=(-0.015, -0.025, -0.005))
    )
    assert point.verdict == "fail"


def test_point_mode_is_the_gate_of_values_whatever_the_intervals() -> None:
    comparison = _comparison(roc_auc=(-0.03, -0.05, 0.01), log_loss=(0.07, 0.0, 0.1))
    point = SETTINGS.model_copy(update={"mode": "point"})
    current = {"roc_auc": 0.78, "log_loss": 0.55}
    assert evaluate_gate(current, BASE, point, comparison) == evaluate_gate(current, BASE, point)
    assert evaluate_gate(current, BASE, point, comparison).verdict == "fail"
    assert evaluate_gate(current, BASE, SETTINGS, comparison).verdict == "inconclusive"


def test_the_mode_is_interval_or_point() -> None:
    assert GateConfig().mode == "interval"
    with pytest.raises(ValueError, match="mode"):
        GateConfig(mode="strict")


def test_a_change_about_as_large_as_the_allowance_says_rows_will_hardly_decide_it() -> None:
    # roc_auc fell by 0.0101 against 0.01 allowed: ~the whole interval's width away from deciding
    result = evaluate_gate(
        {"roc_auc": 0.7999}, {"roc_auc": 0.81}, INTERVAL, _comparison(roc_auc=(-0.0101, -0.02, -0.0002))
    )
    (check,) = result.inconclusive
    assert check.more_rows is not None and check.more_rows > 10 * 2000
    far = f"only far more test rows (~{check.more_rows:,}) would tell"
    assert check.message.endswith(f"the change is about as large as the allowance itself, {far}")
