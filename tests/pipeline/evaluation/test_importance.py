"""Permutation importance ranks what the model uses."""

from slipway.pipeline.evaluation.importance import feature_importance


def test_importance_ranks_the_informative_feature_first(config, churn_frame):
    from slipway.pipeline.model import build_pipeline

    x, y = churn_frame[config.features.all], churn_frame[config.data.target].to_numpy()
    model = build_pipeline(config.features, config.train).fit(x, y)
    rows = feature_importance(model, x, y, repeats=2, max_rows=500, seed=0)
    assert {r["feature"] for r in rows} == set(config.features.all)
    assert rows[0]["importance"] >= rows[-1]["importance"]
    top = [r["feature"] for r in rows[:3]]
    assert "contract" in top or "tenure_months" in top
    paperless = next(r for r in rows if r["feature"] == "paperless_billing")
    assert abs(paperless["importance"]) < 0.01  # the generator gives it no effect
