"""Production monitoring: a window of logged predictions against the training reference.

Pure logic: a compact reference profile of the training split (quantile bins, category counts and a
sample per numeric feature), per-feature drift of a live window against it (PSI for every feature, plus
a KS test for numeric ones), KPIs where labels have arrived (by task: ROC AUC, precision, recall and positive rate
for binary; accuracy and macro F1 for multiclass; RMSE and MAE for regression), and one verdict with its exit code.
The PSI and the binning are ``slipway.drift``'s (used table-to-table in PR reports); this module adds the
stored profile, so the monitor needs neither the training data nor DVC at run time.
Reading the logs, plotting and writing the report happen at the edges (``slipway monitor``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.metrics import (
    f1_score,
    mean_absolute_error,
    precision_score,
    recall_score,
    roc_auc_score,
    root_mean_squared_error,
)

from slipway.config import KpiBound, MonitorConfig
from slipway.drift import MISSING, psi, quantile_edges

UNKNOWN = "(unknown)"
PROFILE_VERSION = 1


class Status(StrEnum):
    """The monitor's verdict; the value is the exit code of ``slipway monitor`` (documented in docs/monitoring.md)."""

    HEALTHY = "healthy"
    DRIFT = "drift"
    KPI_BREACH = "kpi_breach"
    DRIFT_AND_KPI_BREACH = "drift_and_kpi_breach"
    INSUFFICIENT_DATA = "insufficient_data"

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self]

    @property
    def alert(self) -> bool:
        """Whether this verdict should open an issue and trigger retraining."""
        return self in (Status.DRIFT, Status.KPI_BREACH, Status.DRIFT_AND_KPI_BREACH)


EXIT_CODES = {
    Status.HEALTHY: 0,
    Status.DRIFT: 3,
    Status.KPI_BREACH: 4,
    Status.DRIFT_AND_KPI_BREACH: 5,
    Status.INSUFFICIENT_DATA: 6,
}


# --- the reference profile -------------------------------------------------------------------------------------


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
    """Per category; missing values are counted under ``(missing)``."""


@dataclass(frozen=True)
class ReferenceProfile:
    """What the monitor needs to know about the training data, small enough to commit next to the metrics."""

    rows: int
    numeric: dict[str, NumericProfile]
    categorical: dict[str, CategoricalProfile]
    version: int = PROFILE_VERSION

    @property
    def features(self) -> list[str]:
        return [*self.numeric, *self.categorical]

    def to_json(self) -> str:
        return json.dumps(asdict(self)) + "\n"

    @classmethod
    def from_json(cls, text: str) -> ReferenceProfile:
        raw = json.loads(text)
        if raw.get("version") != PROFILE_VERSION:
            raise ValueError(f"reference profile version {raw.get('version')!r} is not {PROFILE_VERSION}")
        return cls(
            rows=int(raw["rows"]),
            numeric={name: NumericProfile(**item) for name, item in raw["numeric"].items()},
            categorical={name: CategoricalProfile(**item) for name, item in raw["categorical"].items()},
        )


def _bin_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts of finite values per bin: (-inf, e0), [e0, e1), ..., [e_last, inf)."""
    return np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)


def _category_counts(values: pd.Series) -> dict[str, int]:
    counts = values.astype("string").fillna(MISSING).value_counts(sort=False)
    return {str(name): int(count) for name, count in sorted(counts.items())}


def build_profile(
    df: pd.DataFrame, numeric: list[str], categorical: list[str], bins: int = 10, sample_size: int = 5000, seed: int = 0
) -> ReferenceProfile:
    """Profile the reference table (the training split): quantile edges, counts, and a seeded sample."""
    if df.empty:
        raise ValueError("cannot profile an empty reference table")
    missing = [name for name in [*numeric, *categorical] if name not in df.columns]
    if missing:
        raise ValueError(f"reference table lacks the features {missing}")
    rng = np.random.default_rng(seed)
    numeric_profiles = {}
    for name in numeric:
        values = pd.to_numeric(df[name], errors="coerce").to_numpy(dtype=float)
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            raise ValueError(f"reference feature {name!r} has no numeric values")
        edges = quantile_edges(pd.Series(finite), bins)
        sample = finite if finite.size <= sample_size else rng.choice(finite, size=sample_size, replace=False)
        numeric_profiles[name] = NumericProfile(
            edges=[float(e) for e in edges],
            counts=[int(c) for c in _bin_counts(finite, edges)],
            missing=int(values.size - finite.size),
            sample=[float(v) for v in np.sort(sample)],
        )
    categorical_profiles = {name: CategoricalProfile(_category_counts(df[name])) for name in categorical}
    return ReferenceProfile(rows=len(df), numeric=numeric_profiles, categorical=categorical_profiles)


# --- drift ------------------------------------------------------------------------------------------------------


def psi_of_counts(reference_counts: np.ndarray, live_counts: np.ndarray) -> float:
    """PSI (``slipway.drift.psi``) of two count vectors over the same bins."""
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


# --- KPIs -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kpi:
    name: str
    value: float | None
    bound: KpiBound | None
    rows: int
    breached: bool
    note: str = ""


def _check(name: str, value: float | None, bound: KpiBound | None, rows: int, note: str = "") -> Kpi:
    breached = False
    if value is not None and bound is not None:
        breached = (bound.min is not None and value < bound.min) or (bound.max is not None and value > bound.max)
    return Kpi(name, None if value is None else round(value, 6), bound, rows, breached, note)


def compute_kpis(
    scores: np.ndarray, labels: np.ndarray, threshold: float, settings: MonitorConfig
) -> tuple[list[Kpi], list[str]]:
    """Binary KPIs: positive rate on every scored prediction; ROC AUC, precision and recall where labels arrived.

    ``labels`` holds NaN for predictions without a label yet. Returns the KPIs and notes on what was skipped.
    """
    bounds = settings.kpis
    notes: list[str] = []
    scores = np.asarray(scores, float)
    labels = np.asarray(labels, float)
    scored = np.isfinite(scores)
    kpis = []
    if scored.sum() == 0:
        notes.append("no prediction scores in the window: KPIs not computed")
        return kpis, notes
    positive = scores[scored] >= threshold
    kpis.append(_check("positive_rate", float(positive.mean()), bounds.get("positive_rate"), int(scored.sum())))
    labelled = scored & np.isfinite(labels)
    n = int(labelled.sum())
    if n < settings.min_labels:
        notes.append(
            f"{n} labelled predictions in the window (< monitor.min_labels={settings.min_labels}): "
            "ROC AUC, precision and recall not evaluated"
        )
        return kpis, notes
    y, s = labels[labelled].astype(int), scores[labelled]
    if len(np.unique(y)) < 2:
        notes.append(f"labels in the window are all {y[0]}: ROC AUC not evaluated")
        auc = None
    else:
        auc = float(roc_auc_score(y, s))
    kpis.append(_check("roc_auc", auc, bounds.get("roc_auc"), n))
    predicted = (s >= threshold).astype(int)
    kpis.append(_check("precision", float(precision_score(y, predicted, zero_division=0)), bounds.get("precision"), n))
    kpis.append(_check("recall", float(recall_score(y, predicted, zero_division=0)), bounds.get("recall"), n))
    kpis.append(_check("label_rate", float(y.mean()), None, n, "observed share of positives (information)"))
    return kpis, notes


def _class_text(value: Any) -> str | None:
    """A class as text, so that 2, 2.0 and "2" (JSON, Parquet and CSV spell them differently) compare equal."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)) or value is pd.NA:
        return None
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value.item() if hasattr(value, "item") else value)


def _enough_labels(n: int, settings: MonitorConfig, what: str) -> list[str]:
    if n >= settings.min_labels:
        return []
    return [
        f"{n} labelled predictions in the window (< monitor.min_labels={settings.min_labels}): {what} not evaluated"
    ]


def multiclass_kpis(predicted: pd.Series, actual: pd.Series, settings: MonitorConfig) -> tuple[list[Kpi], list[str]]:
    """Accuracy and macro F1 of the served labels where the true class has arrived (None where not)."""
    pairs = pd.DataFrame({"predicted": predicted, "actual": actual}).dropna()
    n = len(pairs)
    notes = _enough_labels(n, settings, "accuracy and macro F1")
    if notes:
        return [], notes
    bounds = settings.kpis
    accuracy = float((pairs["predicted"] == pairs["actual"]).mean())
    f1 = float(f1_score(pairs["actual"], pairs["predicted"], average="macro", zero_division=0))
    return [
        _check("accuracy", accuracy, bounds.get("accuracy"), n),
        _check("f1_macro", f1, bounds.get("f1_macro"), n),
    ], []


def regression_kpis(predicted: np.ndarray, actual: np.ndarray, settings: MonitorConfig) -> tuple[list[Kpi], list[str]]:
    """RMSE and MAE of the served values where the true value has arrived."""
    predicted, actual = np.asarray(predicted, float), np.asarray(actual, float)
    known = np.isfinite(predicted) & np.isfinite(actual)
    n = int(known.sum())
    notes = _enough_labels(n, settings, "RMSE and MAE")
    if notes:
        return [], notes
    bounds, y, v = settings.kpis, actual[known], predicted[known]
    rmse = float(root_mean_squared_error(y, v))
    mae = float(mean_absolute_error(y, v))
    return [_check("rmse", rmse, bounds.get("rmse"), n), _check("mae", mae, bounds.get("mae"), n)], []


# --- the window and the verdict ---------------------------------------------------------------------------------


def select_window(log: pd.DataFrame, settings: MonitorConfig, now: pd.Timestamp | None = None) -> pd.DataFrame:
    """The newest ``window_rows`` predictions of the last ``window_days`` days, oldest first."""
    if log.empty or "timestamp" not in log.columns:
        return log.tail(settings.window_rows)
    stamps = pd.to_datetime(log["timestamp"], utc=True, errors="coerce")
    order = np.argsort(stamps.to_numpy(), kind="stable")
    log, stamps = log.iloc[order], stamps.iloc[order]
    if settings.window_days is not None:
        now = now if now is not None else pd.Timestamp.now(tz="UTC")
        log = log[(stamps >= now - pd.Timedelta(days=settings.window_days)).to_numpy()]
    return log.tail(settings.window_rows).reset_index(drop=True)


@dataclass(frozen=True)
class MonitorResult:
    status: Status
    window_rows: int
    features: list[FeatureCheck]
    kpis: list[Kpi]
    notes: list[str]
    window_start: str | None = None
    window_end: str | None = None
    model_versions: dict[str, int] = field(default_factory=dict)
    labelled_rows: int = 0

    @property
    def drifted(self) -> list[str]:
        return [f.feature for f in self.features if f.drifted]

    @property
    def breached(self) -> list[str]:
        return [k.name for k in self.kpis if k.breached]

    def summary(self) -> str:
        """One line for logs, issue titles' comments and PR bodies."""
        parts = [f"status: {self.status.value}", f"window: {self.window_rows:,} predictions"]
        if self.drifted:
            parts.append("drifted: " + ", ".join(self.drifted))
        if self.breached:
            parts.append("KPI breach: " + ", ".join(f"{k.name}={k.value}" for k in self.kpis if k.breached))
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            status=self.status.value,
            exit_code=self.status.exit_code,
            drifted=self.drifted,
            breached=self.breached,
            summary=self.summary(),
        )
        return data


def evaluate_window(
    reference: ReferenceProfile,
    window: pd.DataFrame,
    settings: MonitorConfig,
    threshold: float,
    notes: list[str] | None = None,
    score_column: str = "prediction",
    label_column: str = "actual",
    task: str = "binary",
) -> MonitorResult:
    """Drift of every feature, KPIs, and the verdict. A window below ``min_rows`` is inconclusive, never healthy."""
    notes = list(notes or [])
    rows = len(window)
    span: dict[str, Any] = {}
    if rows and "timestamp" in window.columns:
        stamps = pd.to_datetime(window["timestamp"], utc=True, errors="coerce").dropna()
        if len(stamps):
            span = {"window_start": stamps.min().isoformat(), "window_end": stamps.max().isoformat()}
    if rows and "model_version" in window.columns:
        span["model_versions"] = {str(k): int(v) for k, v in window["model_version"].astype(str).value_counts().items()}
    if rows < settings.min_rows:
        notes.insert(
            0,
            f"only {rows} predictions in the window (monitor.min_rows={settings.min_rows}): "
            "not enough to judge drift or KPIs",
        )
        return MonitorResult(Status.INSUFFICIENT_DATA, rows, [], [], notes, **span)

    features = feature_drift(reference, window, settings)
    missing = pd.Series(np.nan, index=window.index)
    scores = pd.to_numeric(window[score_column], errors="coerce") if score_column in window.columns else missing
    actual = window[label_column] if label_column in window.columns else missing
    if score_column not in window.columns:
        notes.append(f"the log has no {score_column!r} column: KPIs not computed")
    if task == "multiclass":
        served = (window["label"] if "label" in window.columns else missing).map(_class_text)
        truth = actual.map(_class_text)  # classes as text: JSON, Parquet and CSV spell 2 differently
        kpis, kpi_notes = multiclass_kpis(served, truth, settings)
        labelled = int((served.notna() & truth.notna()).sum())
    else:
        numbers = pd.to_numeric(actual, errors="coerce").to_numpy(dtype=float)
        if task == "regression":
            kpis, kpi_notes = regression_kpis(scores.to_numpy(dtype=float), numbers, settings)
        else:
            kpis, kpi_notes = compute_kpis(scores.to_numpy(), numbers, threshold, settings)
        labelled = int((np.isfinite(numbers) & np.isfinite(scores.to_numpy(dtype=float))).sum())
    notes.extend(kpi_notes)
    drift = any(f.drifted for f in features)
    breach = any(k.breached for k in kpis)
    status = {
        (False, False): Status.HEALTHY,
        (True, False): Status.DRIFT,
        (False, True): Status.KPI_BREACH,
        (True, True): Status.DRIFT_AND_KPI_BREACH,
    }[(drift, breach)]
    return MonitorResult(status, rows, features, kpis, notes, labelled_rows=labelled, **span)
