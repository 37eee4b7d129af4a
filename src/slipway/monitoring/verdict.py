"""The monitor's window of predictions, its verdict (healthy, drift, KPI breach, too little data) and exit code."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from slipway.config import MonitorConfig
from slipway.monitoring.checks import FeatureCheck, feature_drift
from slipway.monitoring.kpis import Kpi, _class_text, compute_kpis, multiclass_kpis, regression_kpis
from slipway.monitoring.profile import ReferenceProfile


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
