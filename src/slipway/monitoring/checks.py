"""Drift of a live window against the reference profile: PSI over the reference's bins for every feature,
plus a KS test for numeric ones; categories never seen in training pooled as ``(unknown)``."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
import pandas as pd
from scipy import stats

from slipway.config import MonitorConfig
from slipway.data.drift import MISSING, psi
from slipway.monitoring.profile import (
    CategoricalProfile,
    NumericProfile,
    ReferenceProfile,
    _bin_counts,
    _category_counts,
)

UNKNOWN = "(unknown)"


def psi_of_counts(reference_counts: np.ndarray, live_counts: np.ndarray) -> float:
    """PSI (``slipway.data.drift.psi``) of two count vectors over the same bins."""
    ref, live = np.asarray(reference_counts, float), np.asarray(live_counts, float)
    return psi(ref / max(ref.sum(), 1.0), live / max(live.sum(), 1.0))


@dataclass(frozen=True)
class FeatureCheck:
    """One feature's comparison: reference vs live shares per bin, the statistics, and the verdict."""

    feature: str
    kind: str  # numeric | categorical
    live_rows: int
    psi: float | None
    ks_statistic: float | None = None
    ks_pvalue: float | None = None
    drifted: bool = False
    reasons: list[str] = field(default_factory=list)
    bins: list[str] = field(default_factory=list)
    reference_share: list[float] = field(default_factory=list)
    live_share: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _shares(counts: np.ndarray) -> list[float]:
    total = max(float(np.sum(counts)), 1.0)
    return [round(float(c) / total, 6) for c in counts]


def _edge_labels(edges: list[float]) -> list[str]:
    if not edges:
        return ["all"]
    fmt = [f"{e:.4g}" for e in edges]
    return [f"< {fmt[0]}", *(f"{a} - {b}" for a, b in pairwise(fmt)), f">= {fmt[-1]}"]


def _missing_feature(name: str, kind: str, why: str) -> FeatureCheck:
    return FeatureCheck(name, kind, 0, None, drifted=True, reasons=[why], notes=[why])


def numeric_drift(name: str, reference: NumericProfile, live: pd.Series, settings: MonitorConfig) -> FeatureCheck:
    """PSI over the reference's quantile bins (plus a missing-value bin) and a two-sample KS test."""
    raw = live.to_numpy(dtype=object)
    values = pd.to_numeric(live, errors="coerce").to_numpy(dtype=float)
    notes = []
    not_numeric = int(np.sum(np.isnan(values) & pd.notna(raw)))
    if not_numeric:
        notes.append(f"{not_numeric} non-numeric values counted as missing")
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return _missing_feature(name, "numeric", "no numeric values in the live window")
    edges = np.asarray(reference.edges, float)
    ref_counts = np.array([*reference.counts, reference.missing])
    live_counts = np.array([*_bin_counts(finite, edges), values.size - finite.size])
    value = psi_of_counts(ref_counts, live_counts)
    ks = stats.ks_2samp(np.asarray(reference.sample, float), finite)
    reasons = []
    if value >= settings.psi_threshold:
        reasons.append(f"PSI {value:.3f} >= {settings.psi_threshold}")
    if ks.pvalue < settings.ks_alpha and ks.statistic >= settings.ks_min_statistic:
        reasons.append(f"KS D={ks.statistic:.3f} (p={ks.pvalue:.1e})")
    return FeatureCheck(
        feature=name,
        kind="numeric",
        live_rows=int(values.size),
        psi=round(value, 6),
        ks_statistic=round(float(ks.statistic), 6),
        ks_pvalue=float(ks.pvalue),
        drifted=bool(reasons),
        reasons=reasons,
        bins=[*_edge_labels(reference.edges), MISSING],
        reference_share=_shares(ref_counts),
        live_share=_shares(live_counts),
        notes=notes,
    )


def categorical_drift(
    name: str, reference: CategoricalProfile, live: pd.Series, settings: MonitorConfig
) -> FeatureCheck:
    """PSI over the reference's categories; categories never seen in training are pooled as ``(unknown)``."""
    live_counts = _category_counts(live)
    known = list(reference.counts)
    unknown = {k: v for k, v in live_counts.items() if k not in reference.counts}
    notes = []
    if unknown:
        shown = ", ".join(f"{k!r} ({v})" for k, v in sorted(unknown.items(), key=lambda kv: -kv[1])[:5])
        notes.append(f"categories not seen in training: {shown}")
    names = [*known, UNKNOWN]
    ref_counts = np.array([*reference.counts.values(), 0])
    counts = np.array([*(live_counts.get(k, 0) for k in known), sum(unknown.values())])
    value = psi_of_counts(ref_counts, counts)
    reasons = [f"PSI {value:.3f} >= {settings.psi_threshold}"] if value >= settings.psi_threshold else []
    return FeatureCheck(
        feature=name,
        kind="categorical",
        live_rows=len(live),
        psi=round(value, 6),
        drifted=bool(reasons),
        reasons=reasons,
        bins=names,
        reference_share=_shares(ref_counts),
        live_share=_shares(counts),
        notes=notes,
    )


def feature_drift(reference: ReferenceProfile, window: pd.DataFrame, settings: MonitorConfig) -> list[FeatureCheck]:
    """Every reference feature compared with the window; a feature absent from the window is flagged, not skipped."""
    result = []
    for name, profile in reference.numeric.items():
        if name not in window.columns:
            result.append(_missing_feature(name, "numeric", "missing from the live window"))
        else:
            result.append(numeric_drift(name, profile, window[name], settings))
    for name, cat_profile in reference.categorical.items():
        if name not in window.columns:
            result.append(_missing_feature(name, "categorical", "missing from the live window"))
        else:
            result.append(categorical_drift(name, cat_profile, window[name], settings))
    return result
