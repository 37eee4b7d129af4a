"""Weighted metrics equal scikit-learn's with unit weights, and equal the metric of the resampled table with
bootstrap counts (ties, thresholds and clipping included)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from sklearn import metrics as sk

from slipway.metrics import weighted as wm

SEEDS = range(12)


def _binary(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 2000))
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]
    return y, np.round(rng.random(n), int(rng.integers(1, 4)))  # rounding makes ties


@pytest.mark.parametrize("seed", SEEDS)
def test_binary_metrics_equal_scikit_learn(seed: int) -> None:
    y, s = _binary(seed)
    one = np.ones(len(y))
    predicted = s >= 0.5
    pairs = {
        "roc_auc": (wm.roc_auc(y, s, one), sk.roc_auc_score(y, s)),
        "average_precision": (wm.average_precision(y, s, one), sk.average_precision_score(y, s)),
        "f1": (wm.f1(y, s, one, 0.5), sk.f1_score(y, predicted, zero_division=0)),
        "precision": (wm.precision(y, s, one, 0.5), sk.precision_score(y, predicted, zero_division=0)),
        "recall": (wm.recall(y, s, one, 0.5), sk.recall_score(y, predicted, zero_division=0)),
        "accuracy": (wm.binary_accuracy(y, s, one, 0.5), sk.accuracy_score(y, predicted)),
        "log_loss": (wm.binary_log_loss(y, s, one), sk.log_loss(y, s)),
        "brier": (wm.brier(y, s, one), sk.brier_score_loss(y, s)),
    }
    for name, (ours, theirs) in pairs.items():
        assert ours[0] == pytest.approx(theirs, abs=1e-9), name


@pytest.mark.parametrize("seed", SEEDS)
def test_resample_counts_equal_the_resampled_table(seed: int) -> None:
    y, s = _binary(seed)
    rng = np.random.default_rng(seed + 100)
    counts = rng.multinomial(len(y), np.full(len(y), 1 / len(y)))
    rows = np.repeat(np.arange(len(y)), counts)
    if len(set(y[rows])) < 2:
        pytest.skip("the resample holds one class")
    assert wm.roc_auc(y, s, counts)[0] == pytest.approx(sk.roc_auc_score(y[rows], s[rows]), abs=1e-9)
    expected = sk.average_precision_score(y[rows], s[rows])
    assert wm.average_precision(y, s, counts)[0] == pytest.approx(expected, abs=1e-9)
    assert wm.f1(y, s, counts, 0.5)[0] == pytest.approx(sk.f1_score(y[rows], s[rows] >= 0.5), abs=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_multiclass_and_regression_metrics_equal_scikit_learn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(30, 500)), 4
    y = rng.integers(0, k, n)
    y[:k] = range(k)
    p = rng.random((n, k))
    p /= p.sum(axis=1, keepdims=True)
    one, predicted = np.ones(n), p.argmax(axis=1)
    assert wm.multiclass_accuracy(y, p, one)[0] == pytest.approx(sk.accuracy_score(y, predicted), abs=1e-12)
    f1_macro = sk.f1_score(y, predicted, average="macro", zero_division=0)
    assert wm.f1_macro(y, p, one)[0] == pytest.approx(f1_macro, abs=1e-12)
    f1_weighted = sk.f1_score(y, predicted, average="weighted", zero_division=0)
    assert wm.f1_weighted(y, p, one)[0] == pytest.approx(f1_weighted, abs=1e-12)
    assert wm.multiclass_log_loss(y, p, one)[0] == pytest.approx(sk.log_loss(y, p, labels=range(k)), abs=1e-9)
    auc = sk.roc_auc_score(y, p, multi_class="ovr", average="macro")
    assert wm.roc_auc_ovr(y, p, one)[0] == pytest.approx(auc, abs=1e-12)
    actual = rng.normal(5, 1, n)
    guess = actual + rng.normal(size=n)
    assert wm.rmse(actual, guess, one)[0] == pytest.approx(sk.root_mean_squared_error(actual, guess), abs=1e-9)
    assert wm.mae(actual, guess, one)[0] == pytest.approx(sk.mean_absolute_error(actual, guess), abs=1e-9)
    assert wm.r2(actual, guess, one)[0] == pytest.approx(sk.r2_score(actual, guess), abs=1e-9)
    assert wm.mape(actual, guess, one)[0] == pytest.approx(sk.mean_absolute_percentage_error(actual, guess), abs=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_roc_auc_on_resample_counts_is_the_exact_share_of_ordered_pairs(seed: int) -> None:
    """Each weight row at once, ties counting half, exactly (counts stay integers): every (positive, negative) pair
    of drawn rows counted by hand; a resample that drew one class only has no AUC."""
    rng = np.random.default_rng(seed)
    y = rng.random(40) < 0.4
    s = np.round(rng.random(40), 1)  # many ties
    counts = rng.integers(0, 3, size=(6, 40))
    counts[-1] = np.where(y, 0, 1)  # negatives only
    for row, value in zip(counts, wm.roc_auc(y, s, counts), strict=True):
        pairs = [(i, j) for i in np.flatnonzero(y) for j in np.flatnonzero(~y)]
        total = sum(int(row[i] * row[j]) for i, j in pairs)
        if total == 0:
            assert np.isnan(value)
            continue
        won = sum(
            Fraction(int(row[i] * row[j])) * (int(s[i] > s[j]) + Fraction(int(s[i] == s[j]), 2)) for i, j in pairs
        )
        assert value == float(won / total)


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.float64])
def test_roc_auc_is_exact_when_its_pair_sums_outgrow_the_counts_own_width(dtype: type) -> None:
    """The bootstrap's counts are int32 (a resample's counts sum to the number of rows), but the weight of the
    pairs of a positive and a negative row is a product of two counts: 50,000 x 50,000 does not fit 32 bits."""
    y = np.array([True, False, True, False])
    s = np.array([0.9, 0.2, 0.5, 0.5])  # the second positive ties the second negative
    rows = [[50_000, 50_000, 0, 0], [0, 0, 50_000, 50_000], [30_000, 10_000, 20_000, 40_000]]
    counts: np.ndarray = np.array(rows, dtype=dtype)
    expected = [1.0, 0.5, (30_000 * 50_000 + 20_000 * (10_000 + 40_000 / 2)) / (50_000 * 50_000)]
    assert wm.roc_auc(y, s, counts).tolist() == expected


@pytest.mark.parametrize("metric", [wm.brier, wm.binary_log_loss, wm.rmse, wm.mae, wm.r2, wm.mape])
def test_float_losses_under_resample_counts_hold_no_float_copy_of_the_counts(metric) -> None:
    """A loss times a count is computed as a float by numpy as it goes: the counts (the bootstrap's biggest array)
    are not first copied as floats, so a metric holds one float array of their size (the products) at a time."""
    import tracemalloc

    rng = np.random.default_rng(0)
    y, s = rng.integers(0, 2, 20_000), rng.random(20_000)
    counts = rng.integers(0, 4, size=(50, 20_000)).astype(np.int32)
    expected = metric(y, s, counts.astype(np.float64))
    tracemalloc.start()
    try:
        found = metric(y, s, counts)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert found.tolist() == expected.tolist()  # the same products, summed in the same order
    assert peak < 1.5 * counts.size * 8, f"{peak:,} bytes at peak for {counts.size * 8:,} bytes of float products"
