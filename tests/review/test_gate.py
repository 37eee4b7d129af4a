"""The quality gate: absolute limits, regressions with direction, first PR without base metrics."""

from __future__ import annotations

import pytest

from slipway.config import GateConfig
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
