import json
import math

import numpy as np
import pytest

from slipway.pipeline.evaluation import binary as evaluation

rng = np.random.default_rng(0)
Y = rng.integers(0, 2, 5000)
PROBA = np.clip(Y * 0.3 + rng.random(5000) * 0.7, 0, 1)


def test_metrics_have_every_key_and_sane_values():
    metrics = evaluation.binary_metrics(Y, PROBA, 0.5)
    assert set(metrics) == {"roc_auc", "pr_auc", "f1", "precision", "recall", "accuracy", "log_loss", "brier"}
    assert 0.5 < metrics["roc_auc"] <= 1
    assert all(math.isfinite(v) for v in metrics.values())


def test_perfect_and_random_scores():
    assert evaluation.binary_metrics(Y, Y.astype(float), 0.5)["roc_auc"] == 1.0
    assert abs(evaluation.binary_metrics(Y, rng.random(5000), 0.5)["roc_auc"] - 0.5) < 0.05


@pytest.mark.parametrize("points", [5, 101])
def test_curves_stay_small_and_finite_at_any_size(points):
    roc = evaluation.roc_points(Y, PROBA, points)
    pr = evaluation.pr_points(Y, PROBA, points)
    assert len(roc) <= points and len(pr) <= points
    assert roc[0]["fpr"] == 0 and roc[-1]["tpr"] == 1
    text = json.dumps(roc)
    assert "Infinity" not in text and "NaN" not in text


def test_confusion_counts_add_up():
    cells = evaluation.confusion_counts(Y, PROBA, 0.5)
    assert len(cells) == 4 and sum(c["count"] for c in cells) == len(Y)


def test_calibration_bins():
    points = evaluation.calibration_points(Y, PROBA, 10)
    assert 2 <= len(points) <= 10
    assert all(0 <= p["observed"] <= 1 for p in points)


def test_importance_ranks_the_informative_feature_first(config, churn_frame):
    from slipway.pipeline.model import build_pipeline

    x, y = churn_frame[config.features.all], churn_frame[config.data.target].to_numpy()
    model = build_pipeline(config.features, config.train).fit(x, y)
    rows = evaluation.feature_importance(model, x, y, repeats=2, max_rows=500, seed=0)
    assert {r["feature"] for r in rows} == set(config.features.all)
    assert rows[0]["importance"] >= rows[-1]["importance"]
    top = [r["feature"] for r in rows[:3]]
    assert "contract" in top or "tenure_months" in top
    paperless = next(r for r in rows if r["feature"] == "paperless_billing")
    assert abs(paperless["importance"]) < 0.01  # the generator gives it no effect
