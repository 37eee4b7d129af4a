"""The monitor's report: markdown (for people, the step summary and the alert issue), JSON, and PNG histograms."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from slipway.config import DriftConfig, MonitorConfig
from slipway.data.drift import FeatureDrift
from slipway.monitoring.kpis import Kpi
from slipway.monitoring.labels import join_labels, read_labels
from slipway.monitoring.log_reader import read_prediction_log
from slipway.monitoring.profile import ReferenceProfile
from slipway.monitoring.verdict import MonitorResult, Status, judge, select_windows


class MonitorInputError(RuntimeError):
    """The monitor cannot run at all (no reference profile); distinct from a verdict."""


HEADLINES = {
    Status.HEALTHY: "✅ Healthy: no drift, KPIs within range",
    Status.DRIFT: "⚠️ Drift: production inputs differ from the training data",
    Status.KPI_BREACH: "🚨 KPI breach: the model performs below its thresholds",
    Status.DRIFT_AND_KPI_BREACH: "🚨 Drift and KPI breach",
    Status.INSUFFICIENT_DATA: "❔ Inconclusive: not enough production data to judge",
}


def _num(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _bound(kpi_bound: object) -> str:
    if kpi_bound is None:
        return "-"
    low, high = getattr(kpi_bound, "min", None), getattr(kpi_bound, "max", None)
    if low is not None and high is not None:
        return f"{low} - {high}"
    return f">= {low}" if low is not None else (f"<= {high}" if high is not None else "-")


def image_name(feature: str) -> str:
    return f"drift-{feature}.png"


def _kpi_cell(kpi: Kpi | None) -> str:
    if kpi is None:
        return "-"
    text = _num(kpi.value)
    if kpi.interval is not None:
        text += f" [{_num(kpi.interval.low)}, {_num(kpi.interval.high)}]"
    return f"**{text}**" if kpi.breached else text


def _windows_section(result: MonitorResult) -> list[str]:
    rule = result.rule
    lines = [
        f"**Windows**: the last {len(result.windows)} of up to {rule.windows}, newest first; an alert needs the same "
        f"feature drifted, or the same KPI out of range, in {rule.breaches} of them (`monitor.alert`).",
        "",
        "| window | predictions | from | to | model versions | labelled | drifted | KPIs out of range |",
        "|---|---:|---|---|---|---:|---|---|",
    ]
    for number, w in enumerate(result.windows, 1):
        versions = ", ".join(f"`{v}` ({n:,})" for v, n in w.model_versions.items()) or "-"
        drifted = ", ".join(w.drifted) if w.conclusive else "(too small to judge)"
        lines.append(
            f"| {number} | {w.rows:,} | {w.start or '-'} | {w.end or '-'} | {versions} | {w.labelled_rows:,} "
            f"| {drifted or '-'} | {', '.join(w.breached) or '-'} |"
        )
    return [*lines, ""]


def _drift_section(result: MonitorResult) -> list[str]:
    lines = [
        "### Drift per feature (newest window)",
        "",
        "KS p is computed where it can change the verdict: when D reaches `drift.ks_min_statistic`.",
        "",
        "| feature | kind | PSI | KS D | KS p | drifted | windows drifted | why / notes |",
        "|---|---|---:|---:|---:|:---:|---:|---|",
    ]
    conclusive = sum(w.conclusive for w in result.windows)
    for f in sorted(result.features, key=lambda f: (not f.drifted, f.feature)):
        why = "; ".join([*f.reasons, *(n for n in f.notes if n not in f.reasons)]) or "-"
        p = "-" if f.ks_pvalue is None else f"{f.ks_pvalue:.1e}"
        mark = "**yes**" if f.drifted else "no"
        count = f"{result.drift_count(f.feature)} of {conclusive}"
        lines.append(
            f"| `{f.feature}` | {f.kind} | {_num(f.psi)} | {_num(f.ks_statistic)} | {p} | {mark} | {count} | {why} |"
        )
    return [*lines, ""]


def _kpi_section(result: MonitorResult) -> list[str]:
    names = list(dict.fromkeys(k.name for w in result.windows for k in w.kpis))
    if not names:
        return []
    headers = " | ".join(f"window {i}" for i in range(1, len(result.windows) + 1))
    lines = [
        "### KPIs",
        "",
        "Value per window with its 95 % bootstrap interval (in the newest window that has the KPI); out of range in "
        "**bold**.",
        "",
        f"| KPI | acceptable | {headers} | out of range in |",
        "|---|---|" + "---:|" * len(result.windows) + "---:|",
    ]
    for name in names:
        kpis = [{k.name: k for k in w.kpis}.get(name) for w in result.windows]
        bound = next((k.bound for k in kpis if k is not None), None)
        cells = " | ".join(_kpi_cell(k) for k in kpis)
        evaluated = sum(k is not None for k in kpis)
        lines.append(f"| {name} | {_bound(bound)} | {cells} | {result.breach_count(name)} of {evaluated} |")
    return [*lines, ""]


def render_markdown(result: MonitorResult, images: bool = True, run_url: str | None = None) -> str:
    """The report: verdict, windows, notes, per-feature drift, KPIs, and (optionally) the histograms."""
    lines = [f"## Model monitoring: {HEADLINES[result.status]}", ""]
    lines += [f"`{result.summary()}` (exit code {result.status.exit_code})", ""]
    lines += _windows_section(result)
    if run_url:
        lines += [f"Full report with histograms: {run_url}", ""]
    if result.notes:
        lines += ["**Notes**", "", *(f"- {note}" for note in result.notes), ""]
    if result.features:
        lines += _drift_section(result)
    lines += _kpi_section(result)
    drawn = [f for f in result.features if f.drifted and f.bins]
    if images and drawn:
        lines += ["### Drifted features (newest window): reference vs live", ""]
        lines += [f"![{f.feature}]({image_name(f.feature)})" for f in drawn]
        lines.append("")
    return "\n".join(lines)


def plot_feature(drift: FeatureDrift, path: Path) -> None:
    """Bar chart of the reference vs live share per bin (the bins the PSI was computed on)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    x = np.arange(len(drift.bins))
    fig, ax = plt.subplots(figsize=(max(5.0, 0.6 * len(x) + 2), 3.2), dpi=100)
    ax.bar(x - 0.2, drift.reference_share, width=0.4, label="reference (training)", color="#4C72B0")
    ax.bar(x + 0.2, drift.current_share, width=0.4, label="live window", color="#DD8452")
    ax.set_xticks(x, drift.bins, rotation=35, ha="right", fontsize=8)
    ax.set_ylabel("share of rows")
    ax.set_title(
        f"{drift.feature}: PSI {_num(drift.psi)}"
        + (f", KS D {_num(drift.ks_statistic)}" if drift.ks_statistic is not None else "")
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def write_report(result: MonitorResult, out: Path, run_url: str | None = None) -> dict[str, Path]:
    """``report.md`` (with images), ``issue.md`` (without: for the alert issue), ``summary.json``, PNGs."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("drift-*.png"):
        old.unlink()
    for f in result.features:
        if f.drifted and f.bins:
            plot_feature(f, out / image_name(f.feature))
    paths = {"report": out / "report.md", "issue": out / "issue.md", "summary": out / "summary.json"}
    paths["report"].write_text(render_markdown(result) + "\n")
    paths["issue"].write_text(render_markdown(result, images=False, run_url=run_url) + "\n")
    paths["summary"].write_text(json.dumps(result.to_dict(), indent=2, default=str) + "\n")
    return paths


def run_monitor(
    log_dir: Path,
    labels_dir: Path,
    reference_path: Path,
    settings: MonitorConfig,
    threshold: float,
    now: pd.Timestamp | None = None,
    task: str = "binary",
    drift: DriftConfig | None = None,
) -> MonitorResult:
    """Read the newest predictions of the log, the labels and the reference profile; judge the windows (the I/O
    edge). ``drift``: the thresholds of params.yaml ``drift:`` (default: their defaults)."""
    try:
        reference = ReferenceProfile.from_json(reference_path.read_text())
    except FileNotFoundError:
        raise MonitorInputError(
            f"{reference_path}: reference profile not found (run `dvc repro reference` or `slipway reference-profile`)"
        ) from None
    except (ValueError, KeyError, TypeError) as error:
        raise MonitorInputError(f"{reference_path}: not a reference profile ({error})") from None
    now = now if now is not None else pd.Timestamp.now(tz="UTC")
    since = None if settings.window_days is None else (now - pd.Timedelta(days=settings.window_days)).to_pydatetime()
    notes: list[str] = []
    if not log_dir.is_dir():
        notes.append(f"prediction log folder {log_dir} does not exist")
    skipped: list[str] = []
    newest = settings.alert.windows * settings.window_rows
    log = read_prediction_log(log_dir, since=since, skipped=skipped, newest=newest)
    if skipped:
        notes.append(f"{len(skipped)} malformed prediction log lines skipped (e.g. {', '.join(skipped[:3])})")
    label_skipped: list[str] = []
    labels = read_labels(labels_dir, skipped=label_skipped)
    if label_skipped:
        notes.append(f"{len(label_skipped)} malformed label lines skipped (e.g. {', '.join(label_skipped[:3])})")
    windows = select_windows(join_labels(log, labels), settings, now=now)
    return judge(reference, windows, settings, threshold, drift, notes=notes, task=task)
