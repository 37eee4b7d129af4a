"""The gate on known cases, fitted in-process (no DVC): no change never fails, a clearly worse model fails, a change
in between gets the verdict its interval gives, and over 50 seeded no-change pairs per task the gate fails at most
1 - level of them; the demo's metrics vary over split seeds within their intervals. Binary on the demo's churn
table, multiclass on wine, regression on diabetes.

The numbers: ``pytest -m slow tests/review/test_gate_known_cases.py -s -p no:randomly -n 0``."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from review import known_cases as k

from slipway.metrics.bootstrap import verdict
from slipway.review.comparison import worsening
from slipway.review.gate import evaluate_gate, render_text

pytestmark = pytest.mark.slow

CASES: dict[str, Callable[[], k.Case]] = {"binary": k.churn, "multiclass": k.wine, "regression": k.diabetes}
HEADLINE = {"binary": "roc_auc", "multiclass": "accuracy", "regression": "r2"}
PAIRS = 50


def test_two_fits_of_a_model_with_randomness_never_fail() -> None:
    """hgb with early stopping draws its validation rows from train.seed: two seeds, two different models."""
    case = k.churn()
    for first, second in ((1, 2), (3, 4)):
        hgb = {"train.model": "hgb", "train.hgb.early_stopping": True, "train.hgb.validation_fraction": 0.2}
        a = k.fit(case, k.config_of(case, **hgb, **{"train.seed": first}))
        b = k.fit(case, k.config_of(case, **hgb, **{"train.seed": second}))
        assert a.metrics != b.metrics  # the seed made a difference
        result, comparison = k.gate(b, a, k.config_of(case))
        assert comparison.kind == "paired"
        assert result.verdict != "fail", render_text(result)


@pytest.mark.parametrize("task", CASES)
def test_a_clearly_worse_model_fails(task: str) -> None:
    case = CASES[task]()
    config = k.config_of(case)
    base = k.fit(case, config)
    worse = k.fit(case, k.config_of(case, **{"train.logreg.C": 1e-5}))  # Ridge's alpha 1e5 for regression
    result, comparison = k.gate(worse, base, config)
    assert comparison.kind == "paired"
    assert result.verdict == "fail", render_text(result)
    failed = {c.metric for c in result.failures}
    assert HEADLINE[task] in failed, render_text(result)


def test_a_change_in_between_gets_the_verdict_its_interval_gives() -> None:
    """Without support_calls the model is somewhat worse: too close to the allowed regression to tell on 2,000 rows."""
    case = k.churn()
    config = k.config_of(case)
    numeric = [f for f in config.features.numeric if f != "support_calls"]
    result, comparison = k.gate(
        k.fit(case, k.config_of(case, **{"features.numeric": numeric})), k.fit(case, config), config
    )
    assert result.verdict == "inconclusive", render_text(result)
    for check in (c for c in result.checks if c.kind == "regression"):
        change = comparison.changes[check.metric]
        _, interval = worsening(change, check.metric in config.gate.lower_is_better)
        assert check.verdict == verdict(interval, check.limit)
        assert (check.worse_low, check.worse_high) == (interval.low, interval.high)
        if check.verdict == "inconclusive":
            assert interval.low <= check.limit < interval.high
            assert check.more_rows and f"{check.more_rows:,}" in check.message  # about how many more rows decide


@pytest.mark.parametrize("task", CASES)
def test_false_fails_over_50_no_change_pairs_stay_within_the_level(task: str) -> None:
    """No-change pairs: the same model params, fitted on bootstrap resamples of the training rows (a model with
    randomness). Paired: on the same split, they never fail. Unpaired: on neighbouring split seeds (other test rows),
    they fail at most 1 - level of the time, where comparing the values as they are fails far more often."""
    case = CASES[task]()
    config = k.config_of(case)
    point = k.config_of(case, **{"gate.mode": "point"})
    by_split = [k.fit(case, k.config_of(case, **{"split.seed": seed}), resample_seed=seed) for seed in range(PAIRS + 1)]
    paired_fails = unpaired_fails = point_fails = 0
    for i in range(PAIRS):
        twin = k.fit(case, k.config_of(case, **{"split.seed": i}), resample_seed=1000 + i)
        result, comparison = k.gate(twin, by_split[i], config)
        assert comparison.kind == "paired"
        paired_fails += result.verdict == "fail"
        result, comparison = k.gate(by_split[i + 1], by_split[i], config)
        assert comparison.kind == "unpaired" and "`split.seed`" in comparison.note
        unpaired_fails += result.verdict == "fail"
        point_fails += evaluate_gate(by_split[i + 1].metrics, by_split[i].metrics, point.gate).verdict == "fail"
    level = 0.95
    print(
        f"{task}: false fails over {PAIRS} no-change pairs: paired {paired_fails}, unpaired {unpaired_fails} "
        f"(comparing values: {point_fails})"
    )
    assert paired_fails == 0
    assert unpaired_fails / PAIRS <= 1 - level
    assert point_fails / PAIRS > 1 - level  # what the interval protects against on these pairs


def test_the_demo_metrics_vary_over_ten_split_seeds_within_their_intervals() -> None:
    """Seed-to-seed spread of the demo's metrics (the model refitted on ten splits) against their 95 % intervals:
    each metric's values stay within its typical half-width of their mean, the noise a gate of values mistakes for
    a change."""
    case = k.demo()
    fits = [k.with_intervals(k.fit(case, k.config_of(case, **{"split.seed": seed}))) for seed in range(10)]
    print(f"\n{'metric':10} {'min':>7} {'max':>7} {'range':>7} {'sd':>7} {'95% interval width':>19}")
    for name in fits[0].metrics:
        values = np.array([f.metrics[name] for f in fits])
        widths = np.array([2 * f.intervals.values[name].half_width for f in fits if f.intervals is not None])
        spread = values.max() - values.min()
        numbers = (values.min(), values.max(), spread, values.std(ddof=1))
        print(f"{name:10} " + " ".join(f"{n:7.4f}" for n in numbers) + f" {widths.mean():19.4f}")
        assert spread <= widths.mean(), name
