"""Permutation importance ranks what the model uses, as scikit-learn computes it, with one prediction per batch."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from slipway.pipeline.evaluation import importance
from slipway.pipeline.evaluation.importance import feature_importance


def _fitted(config, churn_frame):
    from slipway.pipeline.features import model_input
    from slipway.pipeline.model import build_pipeline

    x, y = model_input(churn_frame, config.features), churn_frame[config.data.target].to_numpy()
    return build_pipeline(config.features, config.train).fit(x, y), x, y


def test_importance_ranks_the_informative_feature_first(config, churn_frame):
    model, x, y = _fitted(config, churn_frame)
    rows = feature_importance(model, x, y, repeats=2, max_rows=500, seed=0)
    assert {r["feature"] for r in rows} == set(config.features.all)
    assert rows[0]["importance"] >= rows[-1]["importance"]
    top = [r["feature"] for r in rows[:3]]
    assert "contract" in top or "tenure_months" in top
    paperless = next(r for r in rows if r["feature"] == "paperless_billing")
    assert abs(paperless["importance"]) < 0.01  # the generator gives it no effect


def test_all_permuted_copies_are_predicted_in_one_call(config, churn_frame):
    """Each prediction call costs the pipeline's checks; the copies of a few thousand rows share one call."""
    model, x, y = _fitted(config, churn_frame)
    calls: list[int] = []

    def counted(table: pd.DataFrame) -> pd.DataFrame:
        calls.append(len(table))
        return table

    counting = make_pipeline(FunctionTransformer(counted), model).fit(x, y)
    calls.clear()
    feature_importance(counting, x, y, repeats=5, max_rows=1_000, seed=0)
    copies = 1 + 5 * len(x.columns)  # the unpermuted rows, then each feature's repeats
    assert calls == [1_000 * copies]


def _exact(model, x, y, scoring, repeats, seed):
    """The rows as scikit-learn's own permutation_importance gives them, one prediction call per copy."""
    found = permutation_importance(model, x, y, scoring=scoring, n_repeats=repeats, random_state=seed)
    rows = [
        {"feature": name, "importance": round(float(mean), 6), "std": round(float(std), 6)}
        for name, mean, std in zip(x.columns, found.importances_mean, found.importances_std, strict=True)
    ]
    return sorted(rows, key=lambda row: -row["importance"])


@pytest.mark.parametrize("batch_rows", [250_000, 700])  # all copies in one batch; two copies a batch
def test_importance_is_scikit_learns_for_each_tasks_scoring(config, churn_frame, monkeypatch, batch_rows):
    monkeypatch.setattr(importance, "BATCH_ROWS", batch_rows, raising=False)
    model, x, y = _fitted(config, churn_frame)
    x, y = x.iloc[:600], y[:600]
    assert feature_importance(model, x, y, 3, 10_000, 4, "roc_auc") == _exact(model, x, y, "roc_auc", 3, 4)

    rng = np.random.default_rng(0)
    numbers = pd.DataFrame(rng.normal(size=(600, 4)), columns=["a", "b", "c", "d"])
    classes = np.digitize(numbers["a"] + 0.5 * numbers["b"], [-0.5, 0.5])
    multiclass = LogisticRegression().fit(numbers, classes)
    found = feature_importance(multiclass, numbers, classes, 3, 10_000, 1, "f1_macro")
    assert found == _exact(multiclass, numbers, classes, "f1_macro", 3, 1)
    target = 2.0 * numbers["a"] - numbers["c"] + rng.normal(scale=0.1, size=600)
    regression = Ridge().fit(numbers, target)
    assert feature_importance(regression, numbers, target, 3, 10_000, 2, "r2") == _exact(
        regression, numbers, target, "r2", 3, 2
    )
