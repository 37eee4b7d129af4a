"""The monitor's windows of predictions, each one's drift and KPIs, and the verdict over the last windows.

The newest ``monitor.alert.windows`` x ``monitor.window_rows`` predictions of the period are cut into consecutive
windows (fewer, equal ones of at least ``min_rows`` when the period holds less). A feature, or a KPI, alerts only when
it breaches in at least ``monitor.alert.breaches`` of them: one noisy window is not enough, and the verdict needs no
state between runs (it is computed from the log each time).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

import pandas as pd

from slipway.config import AlertRule, DriftConfig, MonitorConfig
from slipway.data.drift import FeatureDrift, TableProfile, compare
from slipway.monitoring.kpis import Kpi, measure_kpis, task_outcomes
from slipway.tasks import TASKS


class Status(StrEnum):
    """The monitor's verdict; its ``exit_code`` is what ``slipway monitor`` exits with (docs/monitoring.md)."""

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


def window_count(rows: int, settings: MonitorConfig) -> tuple[int, int]:
    """How many windows, of how many rows, ``rows`` predictions make: up to ``alert.windows`` of ``window_rows``,
    fewer and equal ones when there are not enough rows, none when there are fewer than ``min_rows``."""
    count = min(settings.alert.windows, rows // settings.min_rows)
    return (count, min(settings.window_rows, rows // count)) if count else (0, rows)


def select_windows(log: pd.DataFrame, settings: MonitorConfig, now: pd.Timestamp | None = None) -> list[pd.DataFrame]:
    """The windows of the last ``window_days`` days, newest first, each oldest row first. With too few rows for one
    window, the one (inconclusive) window holds them all."""
    if "timestamp" in log.columns and len(log):
        stamps = pd.to_datetime(log["timestamp"], utc=True, errors="coerce")
        log = log.iloc[stamps.argsort(kind="stable").to_numpy()]
        if settings.window_days is not None:
            now = now if now is not None else pd.Timestamp.now(tz="UTC")
            log = log[(stamps.loc[log.index] >= now - pd.Timedelta(days=settings.window_days)).to_numpy()]
    log = log.tail(settings.alert.windows * settings.window_rows).reset_index(drop=True)
    count, size = window_count(len(log), settings)
    if not count:
        return [log]
    end = len(log)
    return [log.iloc[end - (i + 1) * size : end - i * size].reset_index(drop=True) for i in range(count)]


@dataclass(frozen=True)
class WindowResult:
    """One window: its drift per feature and KPIs (empty when it is too small to judge)."""

    rows: int
    conclusive: bool
    features: list[FeatureDrift]
    kpis: list[Kpi]
    notes: list[str]
    start: str | None = None
    end: str | None = None
    model_versions: dict[str, int] = field(default_factory=dict)
    labelled_rows: int = 0

    @property
    def drifted(self) -> list[str]:
        return [f.feature for f in self.features if f.drifted]

    @property
    def breached(self) -> list[str]:
        return [k.name for k in self.kpis if k.breached]


def _span(window: pd.DataFrame) -> dict[str, Any]:
    span: dict[str, Any] = {}
    if len(window) and "timestamp" in window.columns:
        stamps = pd.to_datetime(window["timestamp"], utc=True, errors="coerce").dropna()
        if len(stamps):
            span = {"start": stamps.min().isoformat(), "end": stamps.max().isoformat()}
    if len(window) and "model_version" in window.columns:
        span["model_versions"] = {str(k): int(v) for k, v in window["model_version"].astype(str).value_counts().items()}
    return span


def evaluate_window(
    reference: TableProfile,
    window: pd.DataFrame,
    settings: MonitorConfig,
    threshold: float,
    drift: DriftConfig | None = None,
    task: str = "binary",
    intervals: tuple[str, ...] | set[str] = (),
) -> WindowResult:
    """Drift of every feature and the KPIs of one window (bootstrap intervals for the KPIs named in ``intervals``).
    A window below ``min_rows`` is inconclusive, never healthy."""
    rows = len(window)
    if rows < settings.min_rows:
        note = (
            f"only {rows} predictions in the window (monitor.min_rows={settings.min_rows}): "
            "not enough to judge drift or KPIs"
        )
        return WindowResult(rows, False, [], [], [note], **_span(window))
    features = compare(reference, window, drift or DriftConfig()).features
    outcomes = task_outcomes(window, task)
    kpis, notes = measure_kpis(outcomes, task, threshold, settings, intervals)
    return WindowResult(rows, True, features, kpis, notes, labelled_rows=int(outcomes.labelled.sum()), **_span(window))


@dataclass(frozen=True)
class MonitorResult:
    """The verdict over the last windows (newest first) and what led to it."""

    status: Status
    windows: list[WindowResult]
    drifted: list[str]
    """Features drifted in at least ``rule.breaches`` windows."""
    breached: list[str]
    """KPIs out of range in at least ``rule.breaches`` windows."""
    notes: list[str]
    rule: AlertRule

    @property
    def latest(self) -> WindowResult:
        return self.windows[0]

    @property
    def features(self) -> list[FeatureDrift]:
        return self.latest.features

    @property
    def rows(self) -> int:
        return sum(w.rows for w in self.windows)

    @property
    def labelled_rows(self) -> int:
        return sum(w.labelled_rows for w in self.windows)

    def drift_count(self, feature: str) -> int:
        return sum(feature in w.drifted for w in self.windows)

    def breach_count(self, kpi: str) -> int:
        return sum(kpi in w.breached for w in self.windows)

    def latest_kpi(self, name: str) -> Kpi | None:
        """The KPI in the newest window that has it (labels arrive late: older windows have more)."""
        return next((k for w in self.windows for k in w.kpis if k.name == name), None)

    def summary(self) -> str:
        """One line for logs, issue comments and PR bodies."""
        sizes = sorted({w.rows for w in self.windows})
        parts = [f"status: {self.status.value}", f"{len(self.windows)} window(s) of {sizes[-1]:,} predictions"]
        if self.drifted:
            parts.append("drifted: " + ", ".join(self.drifted))
        if self.breached:
            values = [(name, self.latest_kpi(name)) for name in self.breached]
            parts.append("KPI breach: " + ", ".join(f"{name}={k.value if k else '-'}" for name, k in values))
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            status=self.status.value,
            exit_code=self.status.exit_code,
            rule=self.rule.model_dump(),
            rows=self.rows,
            labelled_rows=self.labelled_rows,
            summary=self.summary(),
        )
        return data


def _counts(results: list[WindowResult], attribute: str) -> Counter[str]:
    return Counter(name for w in results for name in getattr(w, attribute))


def _unconfirmed(results: list[WindowResult], attribute: str, rule: AlertRule) -> list[str]:
    what = "drifted" if attribute == "drifted" else "out of range"
    return [
        f"{name} {what} in {count} of {len(results)} windows (an alert needs {rule.breaches})"
        for name, count in _counts(results, attribute).items()
        if count < rule.breaches
    ]


def verdict(results: list[WindowResult], rule: AlertRule, notes: list[str] | None = None) -> MonitorResult:
    """The verdict over evaluated windows (newest first): a feature or a KPI alerts when it breaches in
    ``rule.breaches`` of them; fewer conclusive windows than that is insufficient data, never healthy."""
    notes = [*results[0].notes, *(notes or [])]
    conclusive = [w for w in results if w.conclusive]
    if len(conclusive) < rule.breaches:
        if conclusive:
            notes.insert(
                0,
                f"only {len(conclusive)} window(s) of at least monitor.min_rows predictions: an alert needs "
                f"{rule.breaches} of the last {rule.windows} (monitor.alert), so nothing can be said",
            )
        return MonitorResult(Status.INSUFFICIENT_DATA, results, [], [], notes, rule)
    drifted = [name for name, count in _counts(conclusive, "drifted").items() if count >= rule.breaches]
    breached = [name for name, count in _counts(conclusive, "breached").items() if count >= rule.breaches]
    notes += _unconfirmed(conclusive, "drifted", rule) + _unconfirmed(conclusive, "breached", rule)
    status = {
        (False, False): Status.HEALTHY,
        (True, False): Status.DRIFT,
        (False, True): Status.KPI_BREACH,
        (True, True): Status.DRIFT_AND_KPI_BREACH,
    }[(bool(drifted), bool(breached))]
    return MonitorResult(status, results, drifted, breached, notes, rule)


def judge(
    reference: TableProfile,
    windows: list[pd.DataFrame],
    settings: MonitorConfig,
    threshold: float,
    drift: DriftConfig | None = None,
    notes: list[str] | None = None,
    task: str = "binary",
) -> MonitorResult:
    """Every window (newest first) evaluated, then their ``verdict`` under ``monitor.alert``. Each KPI gets its
    bootstrap interval in the newest window that has it."""
    results, wanted = [], set(TASKS[task].kpis)
    for window in windows or [pd.DataFrame()]:
        result = evaluate_window(reference, window, settings, threshold, drift, task, intervals=wanted)
        wanted -= {k.name for k in result.kpis}
        results.append(result)
    return verdict(results, settings.alert, notes)
