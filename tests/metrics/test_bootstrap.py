"""Intervals of several metrics on shared resamples equal each metric's own interval."""

from __future__ import annotations

from functools import partial

import numpy as np

from slipway.metrics import weighted as wm
from slipway.metrics.bootstrap import Bootstrap, interval, intervals


def test_shared_resamples_give_each_metrics_own_interval():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 700)
    score = np.clip(0.3 * y + 0.7 * rng.random(700), 0, 1)
    metrics = [wm.roc_auc, wm.average_precision, partial(wm.f1, threshold=0.5), wm.brier]
    settings = Bootstrap(resamples=450, level=0.9, seed=11)  # more than one chunk of resamples
    assert intervals(metrics, y, score, settings) == [interval(m, y, score, settings) for m in metrics]
