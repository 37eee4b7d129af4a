"""Per-feature drift between a reference table and a current one. Pure functions: DataFrames in, typed results out.

Two measures, thresholds from ``params.yaml`` (``drift:``, see ``DriftConfig``):

- PSI (population stability index) for every feature: categorical features by category, numeric features by
  quantile bins of the reference (missing values are a bin/category of their own). Rule of thumb: < 0.1 stable,
  0.1-0.25 moderate, > 0.25 large.
- The two-sample Kolmogorov-Smirnov test (scipy) for numeric features.

A feature has drifted when its PSI reaches ``psi_threshold`` or, for numeric features, its KS p-value is below
``ks_pvalue``. Use::

    result = detect_drift(reference_df, current_df, numeric=[...], categorical=[...], settings=config.drift)
    result.drifted          # ["monthly_charges"]
    result.features[0].psi  # per-feature numbers
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from slipway.config import DriftConfig

EPSILON = 1e-4  # share given to an empty bin, so the logarithm stays finite
MISSING = "(missing)"


@dataclass(frozen=True)
class FeatureDrift:
    """Drift numbers for one feature."""

    feature: str
    kind: Literal["numeric", "categorical"]
    psi: float
    ks_statistic: float | None
    ks_pvalue: float | None
    drifted: bool
    reason: str
    """Why it drifted (or "stable"), e.g. "PSI 0.412 >= 0.2"."""


@dataclass(frozen=True)
class DriftResult:
    """Drift of every feature, with the sizes of both tables and the thresholds used."""

    reference_rows: int
    current_rows: int
    psi_threshold: float
    ks_pvalue: float
    features: list[FeatureDrift]

    @property
    def drifted(self) -> list[str]:
        """Names of the features that drifted."""
        return [f.feature for f in self.features if f.drifted]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "drifted": self.drifted}


def psi(reference_share: np.ndarray, current_share: np.ndarray) -> float:
    """Population stability index of two distributions over the same bins (shares summing to 1)."""
    expected = np.clip(np.asarray(reference_share, dtype=float), EPSILON, None)
    actual = np.clip(np.asarray(current_share, dtype=float), EPSILON, None)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def _shares(labels: pd.Series, categories: list[Any]) -> np.ndarray:
    counts = labels.value_counts()
    total = max(len(labels), 1)
    return np.array([counts.get(c, 0) / total for c in categories])


def categorical_psi(reference: pd.Series, current: pd.Series) -> float:
    """PSI over the union of categories seen in either table (missing values count as a category)."""
    ref, cur = reference.astype(object).fillna(MISSING), current.astype(object).fillna(MISSING)
    categories = sorted(set(ref.unique()) | set(cur.unique()), key=str)
    return psi(_shares(ref, categories), _shares(cur, categories))


def quantile_edges(reference: pd.Series, bins: int) -> np.ndarray:
    """Inner bin edges at the reference's quantiles (duplicates removed, so heavy ties give fewer bins)."""
    values = reference.dropna().to_numpy(dtype=float)
    if values.size == 0:
        return np.array([])
    return np.unique(np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1]))


def numeric_psi(reference: pd.Series, current: pd.Series, bins: int) -> float:
    """PSI over quantile bins of the reference, plus one bin for missing values."""
    edges = quantile_edges(reference, bins)

    def binned(values: pd.Series) -> pd.Series:
        numbers = values.to_numpy(dtype=float)
        labels = np.searchsorted(edges, numbers, side="right").astype(object)
        labels[np.isnan(numbers)] = MISSING
        return pd.Series(labels)

    ref, cur = binned(reference), binned(current)
    categories = [*range(len(edges) + 1), MISSING]
    return psi(_shares(ref, categories), _shares(cur, categories))


def ks_test(reference: pd.Series, current: pd.Series) -> tuple[float | None, float | None]:
    """KS statistic and p-value on the non-missing values (None when either side has none)."""
    ref, cur = reference.dropna().to_numpy(dtype=float), current.dropna().to_numpy(dtype=float)
    if ref.size == 0 or cur.size == 0:
        return None, None
    from scipy import stats  # the reference stage profiles with this module and never runs the test

    result = stats.ks_2samp(ref, cur)
    return float(result.statistic), float(result.pvalue)


def _as_numbers(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce").astype(float)


def feature_drift(
    name: str, reference: pd.Series, current: pd.Series, kind: Literal["numeric", "categorical"], settings: DriftConfig
) -> FeatureDrift:
    """Drift of one feature (numeric values that do not parse count as missing)."""
    if kind == "categorical":
        value = categorical_psi(reference, current)
        statistic = pvalue = None
    else:
        reference, current = _as_numbers(reference), _as_numbers(current)
        value = numeric_psi(reference, current, settings.bins)
        statistic, pvalue = ks_test(reference, current)
    reasons = []
    if value >= settings.psi_threshold:
        reasons.append(f"PSI {value:.3f} >= {settings.psi_threshold:g}")
    if pvalue is not None and pvalue < settings.ks_pvalue:
        reasons.append(f"KS p-value {pvalue:.2g} < {settings.ks_pvalue:g}")
    return FeatureDrift(
        feature=name,
        kind=kind,
        psi=round(value, 6),
        ks_statistic=None if statistic is None else round(statistic, 6),
        ks_pvalue=pvalue,
        drifted=bool(reasons),
        reason="; ".join(reasons) or "stable",
    )


def detect_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    numeric: list[str],
    categorical: list[str],
    settings: DriftConfig,
) -> DriftResult:
    """Drift of each listed feature present in both tables; a feature missing from one side is reported drifted."""
    features = []
    for kind, names in (("numeric", numeric), ("categorical", categorical)):
        for name in names:
            if name not in reference.columns or name not in current.columns:
                side = "reference" if name not in reference.columns else "current"
                features.append(FeatureDrift(name, kind, float("nan"), None, None, True, f"missing from {side} data"))
                continue
            features.append(feature_drift(name, reference[name], current[name], kind, settings))
    return DriftResult(len(reference), len(current), settings.psi_threshold, settings.ks_pvalue, features)
