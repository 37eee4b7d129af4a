"""Tables a project might adopt instead of the demo's, built offline from a data set scikit-learn ships."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer


def cancer_table(rows: int = 300, *, seen_at: bool = False, missing: bool = False) -> pd.DataFrame:
    """A binary table (target ``diagnosis``: benign / malignant) from scikit-learn's breast-cancer data: six
    measurements, an id ``case_id``, a category ``clinic``; with ``seen_at`` a date column, with ``missing`` some
    empty measurements and clinics."""
    rng = np.random.default_rng(1)
    data = load_breast_cancer(as_frame=True)
    frame = data.frame.sample(rows, random_state=1).reset_index(drop=True)
    frame = frame[[*data.feature_names[:6], "target"]]
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    frame.insert(0, "case_id", [f"case-{i:04d}" for i in range(rows)])
    if seen_at:
        frame.insert(1, "seen_at", pd.date_range("2023-01-01", periods=rows, freq="D").strftime("%Y-%m-%d"))
    frame["clinic"] = rng.choice(["east", "west", "central"], rows)
    frame["diagnosis"] = np.where(frame.pop("target") == 1, "benign", "malignant")
    if missing:
        frame.loc[rng.choice(rows, 20, replace=False), "mean_texture"] = np.nan
        frame.loc[rng.choice(rows, 15, replace=False), "clinic"] = None
    return frame
