"""Permutation importance of a fitted model: the one plot that needs the model, not only its predictions."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from slipway.metrics.plot_data import Rows


def feature_importance(
    model: Any, x: pd.DataFrame, y: np.ndarray, repeats: int, max_rows: int, seed: int, scoring: str = "roc_auc"
) -> Rows:
    """Permutation importance (drop in ``scoring``) per raw feature on at most ``max_rows`` rows, largest first."""
    from sklearn.inspection import permutation_importance

    if len(x) > max_rows:
        sample = np.sort(np.random.default_rng(seed).choice(len(x), size=max_rows, replace=False))
        x, y = x.iloc[sample], np.asarray(y)[sample]
    result = permutation_importance(model, x, y, scoring=scoring, n_repeats=repeats, random_state=seed)
    rows = [
        {"feature": name, "importance": round(float(mean), 6), "std": round(float(std), 6)}
        for name, mean, std in zip(x.columns, result.importances_mean, result.importances_std, strict=True)
    ]
    return sorted(rows, key=lambda row: -row["importance"])
