"""Per-feature drift of a table against a reference profile: the one PSI / KS implementation of the project.

The pull-request report compares this PR's table with a profile of the base's table (``detect_drift``); the
production monitor compares a window of predictions with the stored profile of the training split (``compare``).
Thresholds from ``params.yaml`` ``drift:`` (``DriftConfig``), one rule for both:

- PSI (population stability index) for every feature, over the reference's bins: quantile bins plus a missing-value
  bin for numeric features; the reference's categories plus one ``(unknown)`` bin pooling categories the reference
  never had for categorical ones. Rule of thumb: < 0.1 stable, 0.1-0.25 moderate, > 0.25 large.
- The two-sample Kolmogorov-Smirnov test of numeric features against the reference's sample: the distance D with
  numpy, the p-value with scipy (imported only where it can change the verdict: when D >= ``ks_min_statistic``).

A feature has drifted when its PSI reaches ``psi_threshold``, or when its KS test is significant
(p < ``ks_alpha``) **and** large (D >= ``ks_min_statistic``): on big samples any difference is significant. ::

    result = detect_drift(base_df, pr_df, numeric=[...], categorical=[...], settings=config.drift)
    result.drifted          # ["monthly_charges"]
    result.features[0].psi  # per-feature numbers, with the shares per bin
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from typing import Any, Literal

import numpy as np
import pandas as pd

from slipway.config import DriftConfig

EPSILON = 1e-4  # share given to an empty bin, so the logarithm stays finite
MISSING = "(missing)"
UNKNOWN = "(unknown)"
Kind = Literal["numeric", "categorical"]


@dataclass(frozen=True)
class NumericProfile:
    """Reference distribution of a numeric feature: inner quantile edges, counts per bin, and a sample for KS."""

    edges: list[float]
    counts: list[int]
    """len(edges) + 1 bins: (-inf, e0), [e0, e1), ..., [e_last, inf)."""
    missing: int
    sample: list[float]


@dataclass(frozen=True)
class CategoricalProfile:
    counts: dict[str, int]
    """Per category (as text); missing values are counted under ``(missing)``."""


@dataclass(frozen=True)
class TableProfile:
    """What a drift comparison needs to know about the reference table."""

    rows: int
    numeric: dict[str, NumericProfile]
    categorical: dict[str, CategoricalProfile]

    @property
    def features(self) -> list[str]:
        return [*self.numeric, *self.categorical]


@dataclass(frozen=True)
class FeatureDrift:
    """One feature compared with the reference: the statistics, the verdict, and the shares per bin."""

    feature: str
    kind: Kind
    rows: int
    """Rows of the compared (current) table."""
    psi: float | None
    ks_statistic: float | None = None
    ks_pvalue: float | None = None
    drifted: bool = False
    reasons: list[str] = field(default_factory=list)
    bins: list[str] = field(default_factory=list)
    reference_share: list[float] = field(default_factory=list)
    current_share: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def reason(self) -> str:
        """Why it drifted, or "stable"."""
        return "; ".join(self.reasons) or "stable"


@dataclass(frozen=True)
class DriftResult:
    """Drift of every feature, with the sizes of both tables and the thresholds used."""

    reference_rows: int
    current_rows: int
    settings: DriftConfig
    features: list[FeatureDrift]

    @property
    def drifted(self) -> list[str]:
        """Names of the features that drifted."""
        return [f.feature for f in self.features if f.drifted]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(settings=self.settings.model_dump(), drifted=self.drifted)
        return data


def psi(reference_share: np.ndarray, current_share: np.ndarray) -> float:
    """Population stability index of two distributions over the same bins (shares summing to 1)."""
    expected = np.clip(np.asarray(reference_share, dtype=float), EPSILON, None)
    actual = np.clip(np.asarray(current_share, dtype=float), EPSILON, None)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def psi_of_counts(reference_counts: np.ndarray, current_counts: np.ndarray) -> float:
    """PSI of two count vectors over the same bins."""
    ref, cur = np.asarray(reference_counts, float), np.asarray(current_counts, float)
    return psi(ref / max(ref.sum(), 1.0), cur / max(cur.sum(), 1.0))


def quantile_edges(values: np.ndarray, bins: int) -> np.ndarray:
    """Inner bin edges at the quantiles of finite values (duplicates removed: heavy ties give fewer bins)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return np.array([])
    return np.unique(np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1]))


def bin_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts of finite values per bin: (-inf, e0), [e0, e1), ..., [e_last, inf)."""
    return np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)


def category_counts(values: pd.Series) -> dict[str, int]:
    """Counts per category as text (missing values under ``(missing)``), sorted by name."""
    counts = values.astype("string").fillna(MISSING).value_counts(sort=False)
    return {str(name): int(count) for name, count in sorted(counts.items())}


def as_numbers(values: pd.Series) -> np.ndarray:
    """Floats; values that do not parse as numbers become NaN."""
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)


def numeric_profile(values: np.ndarray, bins: int, sample_size: int | None, rng: np.random.Generator) -> NumericProfile:
    """Quantile edges, counts, missing count and a sample (every value when ``sample_size`` is None)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        raise ValueError("no numeric values")
    edges = quantile_edges(finite, bins)
    keep = sample_size is None or finite.size <= sample_size
    sample = finite if keep else rng.choice(finite, size=sample_size, replace=False)
    return NumericProfile(
        edges=[float(e) for e in edges],
        counts=[int(c) for c in bin_counts(finite, edges)],
        missing=int(values.size - finite.size),
        sample=np.sort(sample).tolist(),
    )


def profile_table(
    df: pd.DataFrame,
    numeric: list[str],
    categorical: list[str],
    bins: int,
    sample_size: int | None = None,
    seed: int = 0,
) -> TableProfile:
    """Profile of a reference table; ``ValueError`` naming a feature that is absent or has no numeric value."""
    missing = [name for name in [*numeric, *categorical] if name not in df.columns]
    if missing:
        raise ValueError(f"reference table lacks the features {missing}")
    rng = np.random.default_rng(seed)
    numeric_profiles = {}
    for name in numeric:
        try:
            numeric_profiles[name] = numeric_profile(as_numbers(df[name]), bins, sample_size, rng)
        except ValueError:
            raise ValueError(f"reference feature {name!r} has no numeric values") from None
    categorical_profiles = {name: CategoricalProfile(category_counts(df[name])) for name in categorical}
    return TableProfile(rows=len(df), numeric=numeric_profiles, categorical=categorical_profiles)


def ks_statistic(sample: np.ndarray, values: np.ndarray) -> float:
    """The two-sample Kolmogorov-Smirnov distance D, the largest gap between the two empirical CDFs, computed in
    integers and divided once (as scipy's exact method reports it)."""
    first, second = np.sort(sample), np.sort(values)
    both = np.concatenate([first, second])
    below_first = np.searchsorted(first, both, side="right").astype(np.int64)
    below_second = np.searchsorted(second, both, side="right").astype(np.int64)
    gap = int(np.abs(below_first * second.size - below_second * first.size).max())
    common = math.gcd(first.size, second.size)
    return (gap // common) / (first.size // common * second.size)


def ks_test(
    sample: np.ndarray, values: np.ndarray, settings: DriftConfig, every_pvalue: bool = False
) -> tuple[float, float | None]:
    """KS statistic D and p-value. The p-value (scipy, imported here) only where it can change the verdict, when
    D >= ``ks_min_statistic``, unless ``every_pvalue``; else None."""
    statistic = ks_statistic(sample, values)
    if statistic < settings.ks_min_statistic and not every_pvalue:
        return statistic, None
    from scipy import stats

    return statistic, float(stats.ks_2samp(sample, values).pvalue)


def drift_reasons(value: float, ks: tuple[float, float | None] | None, settings: DriftConfig) -> list[str]:
    """The one drift rule: PSI at or above its threshold; KS significant and large enough."""
    reasons = []
    if value >= settings.psi_threshold:
        reasons.append(f"PSI {value:.3f} >= {settings.psi_threshold:g}")
    if ks is not None:
        statistic, pvalue = ks
        if statistic >= settings.ks_min_statistic and pvalue is not None and pvalue < settings.ks_alpha:
            reasons.append(
                f"KS D {statistic:.3f} >= {settings.ks_min_statistic:g} (p {pvalue:.1e} < {settings.ks_alpha:g})"
            )
    return reasons


def _shares(counts: np.ndarray) -> list[float]:
    total = max(float(np.sum(counts)), 1.0)
    return [round(float(c) / total, 6) for c in counts]


def _edge_labels(edges: list[float]) -> list[str]:
    if not edges:
        return ["all"]
    fmt = [f"{e:.4g}" for e in edges]
    return [f"< {fmt[0]}", *(f"{a} - {b}" for a, b in pairwise(fmt)), f">= {fmt[-1]}"]


def flagged(name: str, kind: Kind, why: str, rows: int = 0) -> FeatureDrift:
    """A feature that cannot be compared (absent, nothing numeric): drifted, with the reason."""
    return FeatureDrift(name, kind, rows, None, drifted=True, reasons=[why], notes=[why])


def numeric_drift(
    name: str,
    reference: NumericProfile,
    current: pd.Series,
    settings: DriftConfig,
    side: str = "the live window",
    every_pvalue: bool = False,
) -> FeatureDrift:
    """PSI over the reference's quantile bins (plus a missing-value bin) and a two-sample KS test."""
    values = as_numbers(current)
    notes = []
    not_numeric = int(np.sum(np.isnan(values) & current.notna().to_numpy()))
    if not_numeric:
        notes.append(f"{not_numeric} non-numeric values counted as missing")
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return flagged(name, "numeric", f"no numeric values in {side}", len(values))
    edges = np.asarray(reference.edges, float)
    ref_counts = np.array([*reference.counts, reference.missing])
    counts = np.array([*bin_counts(finite, edges), values.size - finite.size])
    value = psi_of_counts(ref_counts, counts)
    statistic, pvalue = ks_test(np.asarray(reference.sample, float), finite, settings, every_pvalue)
    reasons = drift_reasons(value, (statistic, pvalue), settings)
    return FeatureDrift(
        feature=name,
        kind="numeric",
        rows=int(values.size),
        psi=round(value, 6),
        ks_statistic=round(statistic, 6),
        ks_pvalue=pvalue,
        drifted=bool(reasons),
        reasons=reasons,
        bins=[*_edge_labels(reference.edges), MISSING],
        reference_share=_shares(ref_counts),
        current_share=_shares(counts),
        notes=notes,
    )


def categorical_drift(
    name: str, reference: CategoricalProfile, current: pd.Series, settings: DriftConfig
) -> FeatureDrift:
    """PSI over the reference's categories; categories the reference never had are pooled as ``(unknown)``."""
    current_counts = category_counts(current)
    known = list(reference.counts)
    unknown = {k: v for k, v in current_counts.items() if k not in reference.counts}
    notes = []
    if unknown:
        shown = ", ".join(f"{k!r} ({v})" for k, v in sorted(unknown.items(), key=lambda kv: -kv[1])[:5])
        notes.append(f"categories the reference never had: {shown}")
    ref_counts = np.array([*reference.counts.values(), 0])
    counts = np.array([*(current_counts.get(k, 0) for k in known), sum(unknown.values())])
    value = psi_of_counts(ref_counts, counts)
    reasons = drift_reasons(value, None, settings)
    return FeatureDrift(
        feature=name,
        kind="categorical",
        rows=len(current),
        psi=round(value, 6),
        drifted=bool(reasons),
        reasons=reasons,
        bins=[*known, UNKNOWN],
        reference_share=_shares(ref_counts),
        current_share=_shares(counts),
        notes=notes,
    )


def compare(
    reference: TableProfile,
    current: pd.DataFrame,
    settings: DriftConfig,
    side: str = "the live window",
    every_pvalue: bool = False,
) -> DriftResult:
    """Every feature of the reference compared with ``current``; a feature absent from it is flagged, not skipped.
    ``side`` names the current table in reasons ("missing from the live window"); ``every_pvalue``: a KS p-value
    for every numeric feature, not only where it can change the verdict."""
    features: list[FeatureDrift] = []
    for name, profile in reference.numeric.items():
        if name not in current.columns:
            features.append(flagged(name, "numeric", f"missing from {side}"))
        else:
            features.append(numeric_drift(name, profile, current[name], settings, side, every_pvalue))
    for name, categories in reference.categorical.items():
        if name not in current.columns:
            features.append(flagged(name, "categorical", f"missing from {side}"))
        else:
            features.append(categorical_drift(name, categories, current[name], settings))
    return DriftResult(reference.rows, len(current), settings, features)


def detect_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    numeric: list[str],
    categorical: list[str],
    settings: DriftConfig,
) -> DriftResult:
    """Table vs table: ``current`` compared with a profile of ``reference`` that keeps every value for KS (with
    every KS p-value, for the pull-request report's table).

    A feature absent from either table, or without a numeric value in the reference, is reported drifted.
    """
    kinds: dict[str, Kind] = {name: "numeric" for name in numeric}
    kinds.update({name: "categorical" for name in categorical})
    unusable: dict[str, FeatureDrift] = {}
    for name, kind in kinds.items():
        if name not in reference.columns:
            unusable[name] = flagged(name, kind, "missing from reference data")
        elif kind == "numeric" and not np.isfinite(as_numbers(reference[name])).any():
            unusable[name] = flagged(name, kind, "no numeric values in reference data")
    usable = [name for name in kinds if name not in unusable]
    profile = profile_table(
        reference,
        [n for n in usable if kinds[n] == "numeric"],
        [n for n in usable if kinds[n] == "categorical"],
        settings.bins,
    )
    compared = {f.feature: f for f in compare(profile, current, settings, "current data", every_pvalue=True).features}
    features = [unusable.get(name) or compared[name] for name in kinds]
    return DriftResult(len(reference), len(current), settings, features)
