"""Several metrics' changes on one set of resamples equal each metric's change on its own; each side may score at
its own threshold; the rows needed to decide are not inflated by rounding."""

from __future__ import annotations

import threading
from collections import Counter
from functools import partial

import numpy as np
import pytest
from support.waiting import became_true

from slipway.metrics import bootstrap
from slipway.metrics import weighted as wm
from slipway.metrics.bootstrap import (
    Bootstrap,
    Interval,
    Metric,
    interval,
    intervals,
    paired_change,
    paired_changes,
    resample_counts,
    rows_to_decide,
    unpaired_change,
    unpaired_changes,
)
from slipway.tasks import TASKS

SETTINGS = Bootstrap(resamples=200, seed=3)


def _scores(seed: int = 0, rows: int = 500) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, rows)
    good = np.clip(0.3 * y + 0.7 * rng.random(rows), 0, 1)
    return y, good, np.clip(good + rng.normal(0, 0.2, rows), 0, 1)


def test_many_metrics_at_once_equal_each_on_its_own() -> None:
    y, new, base = _scores()
    metrics = {m.name: m.function(0.5) for m in TASKS["binary"].metrics}
    together = paired_changes({n: (f, f) for n, f in metrics.items()}, y, new, base, SETTINGS)
    assert together == {n: paired_change(f, y, new, base, SETTINGS) for n, f in metrics.items()}
    y2, other, _ = _scores(seed=1, rows=400)
    apart = unpaired_changes({n: (f, f) for n, f in metrics.items()}, (y, new), (y2, other), SETTINGS)
    assert apart == {n: unpaired_change(f, (y, new), (y2, other), SETTINGS) for n, f in metrics.items()}


def test_each_side_scores_at_its_own_threshold() -> None:
    y, new, base = _scores()
    ones = np.ones(len(y))
    at = {t: TASKS["binary"].metric("f1").function(t) for t in (0.4, 0.6)}
    (delta, interval) = paired_changes({"f1": (at[0.4], at[0.6])}, y, new, base, SETTINGS)["f1"]
    assert delta == pytest.approx(wm.f1(y, new, ones, 0.4)[0] - wm.f1(y, base, ones, 0.6)[0])
    assert interval.low <= delta <= interval.high


def test_rows_to_decide_is_not_inflated_by_floating_point() -> None:
    assert rows_to_decide(2000, 0.015, Interval(0.005, 0.025), 0.01) == 6000
    assert rows_to_decide(2000, 0.01, Interval(0.0, 0.02), 0.01) is None


@pytest.mark.slow
def test_a_large_test_split_is_resampled_in_bounded_memory() -> None:
    import tracemalloc

    y, new, _ = _scores(rows=100_000)
    tracemalloc.start()
    try:
        found = interval(wm.brier, y, new, Bootstrap(resamples=200))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert found.low < found.high
    assert peak < 200e6  # 200 resamples x 100,000 rows at once would hold 160 MB per array, several at a time


def test_shared_resamples_give_each_metrics_own_interval():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 700)
    score = np.clip(0.3 * y + 0.7 * rng.random(700), 0, 1)
    metrics: list[Metric] = [wm.roc_auc, wm.average_precision, partial(wm.f1, threshold=0.5), wm.brier]
    settings = Bootstrap(resamples=450, level=0.9, seed=11)  # more than one chunk of resamples
    assert intervals(metrics, y, score, settings) == [interval(m, y, score, settings) for m in metrics]


@pytest.mark.slow
def test_a_split_above_max_rows_is_resampled_on_a_subset_and_keeps_the_whole_splits_interval() -> None:
    """The m-out-of-n bootstrap: replicates see at most ``max_rows`` rows, and the interval agrees with resampling all
    60,000 rows (centre and width within the bootstrap's own noise at 300 resamples)."""
    y, new, _ = _scores(seed=5, rows=60_000)
    seen: list[int] = []

    def recorded(metric):
        def call(y, output, w):
            if np.ndim(w) == 2 and len(w) > 1:  # the resamples (not a point value)
                seen.append(np.shape(w)[1])
            return metric(y, output, w)

        return call

    names = ("roc_auc", "brier", "f1")
    metrics = [recorded(TASKS["binary"].metric(name).function(0.5)) for name in names]
    whole = intervals(metrics, y, new, Bootstrap(resamples=300, max_rows=None))
    assert set(seen) == {60_000}
    seen.clear()
    subset = intervals(metrics, y, new, Bootstrap(resamples=300, max_rows=10_000))
    assert set(seen) == {10_000}
    for name, full, part in zip(names, whole, subset, strict=True):
        assert part.half_width == pytest.approx(full.half_width, rel=0.2), name
        assert abs((part.low + part.high) / 2 - (full.low + full.high) / 2) <= 0.25 * full.half_width, name


def test_a_split_within_max_rows_is_resampled_whole_as_before() -> None:
    y, new, base = _scores(rows=2_000)
    metric = TASKS["binary"].metric("roc_auc").function(0.5)
    for settings in (Bootstrap(resamples=200), Bootstrap(resamples=200, max_rows=2_000)):
        assert interval(metric, y, new, settings) == interval(metric, y, new, Bootstrap(resamples=200, max_rows=None))
        assert paired_change(metric, y, new, base, settings) == paired_change(
            metric, y, new, base, Bootstrap(resamples=200, max_rows=None)
        )


@pytest.mark.slow
def test_paired_and_unpaired_changes_above_max_rows_keep_the_whole_splits_interval() -> None:
    y, new, base = _scores(seed=6, rows=60_000)
    metric = TASKS["binary"].metric("roc_auc").function(0.5)
    for change in (
        lambda s: paired_change(metric, y, new, base, s),
        lambda s: unpaired_change(metric, (y, new), (y, base), s),
    ):
        (point, full), (same_point, part) = (change(Bootstrap(resamples=300, max_rows=m)) for m in (None, 10_000))
        assert same_point == point  # the change itself is always on every row
        assert part.half_width == pytest.approx(full.half_width, rel=0.2)
        assert abs((part.low + part.high) / 2 - (full.low + full.high) / 2) <= 0.25 * full.half_width


@pytest.mark.parametrize(("rows", "resamples"), [(1, 3), (7, 1), (500, 40)])
def test_resample_counts_are_the_seeded_draws_counted(rows: int, resamples: int) -> None:
    """Each resample draws ``rows`` rows with replacement from the seeded stream, in this order: how they are
    counted may change, the draws (so the intervals in outputs/intervals.json) may not."""
    counts = resample_counts(rows, resamples, np.random.default_rng(7))
    drawn = np.random.default_rng(7).integers(0, rows, size=(resamples, rows))
    assert counts.shape == (resamples, rows) and counts.dtype.kind == "i"
    for resample in range(resamples):
        assert dict(Counter(drawn[resample].tolist())) == {i: int(c) for i, c in enumerate(counts[resample]) if c}
        assert counts[resample].sum() == rows


def test_the_metrics_run_side_by_side_a_few_at_once_and_their_intervals_do_not_depend_on_the_cores(monkeypatch) -> None:
    y, scores, _ = _scores(rows=3_000)
    functions = [m.function(0.5) for m in TASKS["binary"].metrics]
    threads: set[int] = set()

    def recorded(function: Metric) -> Metric:
        def metric(y: np.ndarray, output: np.ndarray, w: np.ndarray) -> np.ndarray:
            threads.add(threading.get_ident())
            return function(y, output, w)

        return metric

    found = {}
    for cores in (1, 2, 64):
        monkeypatch.setattr(bootstrap, "_cores", lambda cores=cores: cores)
        threads.clear()
        found[cores] = intervals([recorded(f) for f in functions], y, scores, SETTINGS)
        assert len(threads) == 1 if cores == 1 else 2 <= len(threads) <= bootstrap.THREADS, (cores, threads)
    assert found[1] == found[2] == found[64]
    assert found[1] == [interval(f, y, scores, SETTINGS) for f in functions]


def test_the_next_chunk_of_resamples_is_drawn_while_this_one_is_scored(monkeypatch) -> None:
    """Drawing a chunk's counts is a fifth of the work on a large split: it runs beside the metrics of the chunk
    before (the draws stay in order, so the intervals are the same)."""
    y, scores, _ = _scores(rows=2_000)
    draws: list[int] = []
    scored: list[int] = []
    next_drawn_meanwhile: list[bool] = []

    def recorded_draw(rows: int, resamples: int, rng: np.random.Generator) -> np.ndarray:
        draws.append(resamples)
        return resample_counts(rows, resamples, rng)

    def scoring(y: np.ndarray, output: np.ndarray, w: np.ndarray) -> np.ndarray:
        scored.append(len(w))
        if sum(scored) < 400:  # a chunk with another after it: that one's draw starts while this one is scored
            next_drawn_meanwhile.append(became_true(lambda: len(draws) > len(scored), 5))
        return wm.brier(y, output, w)

    monkeypatch.setattr(bootstrap, "resample_counts", recorded_draw)
    monkeypatch.setattr(bootstrap, "_cores", lambda: 2)
    monkeypatch.setattr(bootstrap, "CHUNK", 100)
    found = intervals([scoring, wm.roc_auc], y, scores, Bootstrap(resamples=400, seed=3))
    assert draws == [100] * 4 and next_drawn_meanwhile == [True] * 3
    assert found == intervals([wm.brier, wm.roc_auc], y, scores, Bootstrap(resamples=400, seed=3))
