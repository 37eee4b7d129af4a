"""The pull-request report: what changed against the base branch, and whether the model got better.

``slipway report --base main`` writes ``report/report.md`` and its PNGs (and appends the markdown to
``$GITHUB_STEP_SUMMARY`` when set). Sections, picture first: status line (tests, data checks, gate verdict) →
params diff → metrics, each as value ± interval, with the change and its interval (paired on the same test rows
when it can be) → plots, base vs PR → data (rows, schema checks, per-feature drift against the base's data) →
model card. ``report.md`` is the comment: when the report would pass GitHub's comment limit its long tables are
cut, and the full report goes to ``full-report.md`` and the job summary.

The base revision's files are read from git (``params.yaml``, and the git-tracked ``outputs/metrics.json``,
``outputs/intervals.json`` and ``outputs/plots/*.json``), its data and per-row predictions through DVC
(``DVCFileSystem(rev=...)``). A base without metrics (first PR) or without the ref at all still gives a report.
Rendering is pure (this module); gathering is in ``slipway.review.gather``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from slipway.pipeline.paths import METRICS, PLOTS, VALIDATION_SUMMARY
from slipway.review.comparison import Change, Comparison, Intervals
from slipway.review.gate import GateResult, worse_by

if TYPE_CHECKING:  # heavy imports (pandera, scipy) only where the report is built, not for `slipway comment`
    from slipway.data.drift import DriftResult
    from slipway.data.validation import ValidationResult


Metrics = dict[str, float]
METRICS_PATH = METRICS.as_posix()  # as git and DVC name them at a revision
PLOTS_DIR = PLOTS.as_posix()
VALIDATION_PATH = VALIDATION_SUMMARY.as_posix()
SAME = 1e-9  # metric changes at or below this are "unchanged"
RESULT_ICON = {"success": "✅ passed", "failure": "❌ failed", "cancelled": "⏹️ cancelled", "skipped": "⏭️ skipped"}
VERDICT = {
    "better": "🟢 better",
    "worse": "🔴 worse",
    "noise": "⚪ within noise",
    "unchanged": "⚪ same",
    "new": "🆕 new",
    "removed": "removed",
}
COMMENT_BUDGET = 60_000
"""Largest report posted as a comment, in UTF-8 bytes: GitHub refuses comments over 65,536 characters, and CML adds
its watermark. A longer report has its long tables cut; the full one goes to the job summary and the artifact."""
FULL_REPORT = "full-report.md"


@dataclass(frozen=True)
class Status:
    """Results of the workflow's other jobs (GitHub's needs.<job>.result); empty = not known (a local run)."""

    tests: str = ""
    data: str = ""
    train: str = ""


@dataclass(frozen=True)
class ParamChange:
    key: str
    base: Any
    current: Any


@dataclass(frozen=True)
class MetricDelta:
    metric: str
    base: float | None
    current: float | None
    delta: float | None
    relative: float | None
    verdict: str
    """better | worse | noise (the change's interval holds no change) | unchanged | new | removed"""
    change: Change | None = None


def flatten(mapping: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested params as dotted keys: {"train": {"logreg": {"C": 1}}} -> {"train.logreg.C": 1}."""
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def diff_params(base: dict[str, Any] | None, current: dict[str, Any]) -> list[ParamChange]:
    """Changed, added and removed params (dotted keys, sorted); everything is new when there is no base."""
    old, new = flatten(base or {}), flatten(current)
    keys = sorted(set(old) | set(new))
    return [ParamChange(k, old.get(k), new.get(k)) for k in keys if k not in old or k not in new or old[k] != new[k]]


def compare_metrics(
    base: Metrics | None, current: Metrics, lower_is_better: list[str], changes: dict[str, Change] | None = None
) -> list[MetricDelta]:
    """One row per metric in either revision: values, absolute and relative change, better/worse; a change whose
    interval (``changes``) includes no change at all is within noise."""
    base, changes = base or {}, changes or {}
    rows = []
    for metric in [*current, *(m for m in base if m not in current)]:
        old, new = base.get(metric), current.get(metric)
        if old is None or new is None:
            rows.append(MetricDelta(metric, old, new, None, None, "new" if old is None else "removed"))
            continue
        delta = new - old
        relative = delta / abs(old) if old else None
        worse = worse_by(metric, new, old, lower_is_better)
        verdict = "unchanged" if abs(delta) <= SAME else ("worse" if worse > 0 else "better")
        change = changes.get(metric)
        if verdict != "unchanged" and change is not None and change.interval.low <= 0 <= change.interval.high:
            verdict = "noise"
        rows.append(MetricDelta(metric, old, new, delta, relative, verdict, change))
    return rows


def format_value(value: Any) -> str:
    """Numbers for tables: floats to 4 decimals, ints with separators, None as a dash."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4f}"
    if isinstance(value, int):
        return f"{value:,}"
    return f"`{value}`" if value != "" else '""'


def format_delta(delta: float | None, change: Change | None = None) -> str:
    """``+0.0019``, or with the change's interval ``-0.0147 [-0.0216, -0.0080]``."""
    if delta is None:
        return "—"
    if change is None:
        return f"{delta:+.4f}"
    return f"{delta:+.4f} [{change.interval.low:+.4f}, {change.interval.high:+.4f}]"


def format_estimate(value: float | None, intervals: Intervals | None, metric: str) -> str:
    """``0.8104 ± 0.0186``: the value and half its interval's width (or the value alone without an interval)."""
    interval = intervals.values.get(metric) if intervals is not None else None
    if value is None or interval is None:
        return format_value(value)
    return f"{format_value(value)} ± {interval.half_width:.4f}"


def format_relative(relative: float | None) -> str:
    return "—" if relative is None else f"{relative:+.2%}"


def _table(
    header: list[str], align: list[str], rows: list[list[str]], max_rows: int | None = None, where: str = ""
) -> list[str]:
    """A markdown table; beyond ``max_rows`` the rest is left out with a line saying where the full table is."""
    shown = rows if max_rows is None else rows[:max_rows]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(align) + "|",
        *("| " + " | ".join(r) + " |" for r in shown),
    ]
    if len(shown) < len(rows):
        lines += ["", f"_{len(rows) - len(shown):,} more row(s) not shown here: {where or 'see the full report'}._"]
    return lines


def render_params(
    changes: list[ParamChange] | None, base_label: str, max_rows: int | None = None, where: str = ""
) -> list[str]:
    lines = [f"### Params vs `{base_label}`", ""]
    if changes is None:
        return [*lines, f"_No params at `{base_label}` to compare with._", ""]
    if not changes:
        return [*lines, "No params changed.", ""]
    rows = [[f"`{c.key}`", format_value(c.base), format_value(c.current)] for c in changes]
    return [*lines, *_table(["param", base_label, "this PR"], ["---", "---:", "---:"], rows, max_rows, where), ""]


def render_metrics(r: ReportInputs, max_rows: int | None = None, where: str = "") -> list[str]:
    """Each metric as value ± interval in both revisions, the change with its interval, and how it was compared."""
    lines = [f"### Metrics vs `{r.base_label}`", ""]
    if r.metrics is None:
        return [*lines, f"_No metrics for this PR: {r.metrics_note or 'no metrics'}._", ""]
    if r.base_metrics is None:
        lines += [f"_`{r.base_label}` has no metrics yet (first pull request?): showing this PR's only._", ""]
    changes = r.comparison.changes if r.comparison is not None else None
    deltas = compare_metrics(r.base_metrics, r.metrics, r.lower_is_better, changes)
    rows = [
        [
            f"`{d.metric}`",
            format_estimate(d.base, r.base_intervals, d.metric),
            format_estimate(d.current, r.intervals, d.metric),
            format_delta(d.delta, d.change),
            format_relative(d.relative),
            VERDICT[d.verdict],
        ]
        for d in deltas
    ]
    header = ["metric", r.base_label, "this PR", "change", "change %", ""]
    lines += _table(header, ["---", "---:", "---:", "---:", "---:", "---"], rows, max_rows, where)
    return [*lines, *_metrics_legend(r), ""]


def _metrics_legend(r: ReportInputs) -> list[str]:
    """What the ± and the brackets mean, and whether the change was paired (and why not)."""
    said = []
    shown = r.intervals or r.base_intervals
    if shown is not None:
        said.append(f"± is half the {shown.bootstrap.level:.0%} bootstrap interval over the revision's test rows")
    if r.comparison is not None and r.base_metrics is not None:
        brackets = f"[ ] the change's {r.comparison.level:.0%} interval, " if r.comparison.changes else ""
        said.append(f"{brackets}{r.comparison.note}")
    return ["", "<sub>" + "; ".join(said) + ".</sub>"] if said else []


def gate_summary(gate: GateResult | None, why_not: str) -> str:
    if gate is None:
        return f"⏸️ not run ({why_not})"
    if gate.verdict == "pass":
        return "✅ passed"
    if gate.verdict == "inconclusive":
        names = ", ".join(dict.fromkeys(c.metric for c in gate.inconclusive))
        return f"⚠️ inconclusive, passes with a warning ({names}: too uncertain to tell, see the quality gate)"
    return "❌ failed: " + "; ".join(c.message for c in gate.failures)


GATE_HEADLINE = {
    "pass": "**Passed**: every check holds.",
    "inconclusive": "**Inconclusive**: passes with a warning; {n} check(s) too uncertain to tell (⚠️ below).",
    "fail": "**Failed**: {n} check(s).",
}


def render_gate(gate: GateResult | None, why_not: str) -> list[str]:
    lines = ["### Quality gate", ""]
    if gate is None:
        return [*lines, f"Not run: {why_not}.", ""]
    count = len(gate.failures) if gate.verdict == "fail" else len(gate.inconclusive)
    lines += [GATE_HEADLINE[gate.verdict].format(n=count), ""]
    lines += [f"- ❌ {c.message}" for c in gate.failures]
    lines += [f"- ⚠️ {c.message}" for c in gate.inconclusive]
    lines += [f"- ✅ {c.message}" for c in gate.checks if c.verdict == "pass"]
    lines += [f"- note: {note}" for note in gate.notes]
    return [*lines, ""]


def render_status(status: Status, gate: GateResult | None, why_not: str) -> str:
    def result(value: str) -> str:
        return RESULT_ICON.get(value, value or "— not run here")

    gate_text = gate_summary(gate, why_not)
    return f"**Tests** {result(status.tests)} · **Data checks** {result(status.data)} · **Gate** {gate_text}"


def render_drift(
    drift: DriftResult | None, note: str, image: str | None, max_rows: int | None = None, where: str = ""
) -> list[str]:
    if drift is None:
        return [f"Drift vs base data: _{note}_", ""]
    head = (
        f"Drift vs the base's data ({drift.reference_rows:,} rows → {drift.current_rows:,} rows; drifted when "
        f"PSI ≥ {drift.settings.psi_threshold:g}, or KS p-value < {drift.settings.ks_alpha:g} "
        f"and D ≥ {drift.settings.ks_min_statistic:g}): "
        + (f"**{len(drift.drifted)} feature(s) drifted**: {', '.join(drift.drifted)}." if drift.drifted else "none.")
    )
    drifted_first = sorted(drift.features, key=lambda f: not f.drifted) if max_rows is not None else drift.features
    rows = [
        [
            f"`{f.feature}`",
            f.kind,
            format_value(f.psi),
            "—" if f.ks_pvalue is None else f"{f.ks_pvalue:.3g}",
            "⚠️ " + f.reason if f.drifted else "stable",
        ]
        for f in drifted_first
    ]
    header, align = ["feature", "kind", "PSI", "KS p-value", "drift"], ["---", "---", "---:", "---:", "---"]
    lines = [head, "", *_table(header, align, rows, max_rows, where)]
    if image:
        lines += ["", f"![Drift per feature]({image})"]
    return [*lines, ""]


@dataclass
class ReportInputs:
    """Everything the report shows, gathered beforehand (see ``gather``)."""

    title: str
    base_label: str
    status: Status = field(default_factory=Status)
    base_sha: str | None = None
    head_sha: str | None = None
    params_changes: list[ParamChange] | None = None
    metrics: Metrics | None = None
    metrics_note: str = ""
    base_metrics: Metrics | None = None
    intervals: Intervals | None = None
    base_intervals: Intervals | None = None
    comparison: Comparison | None = None
    lower_is_better: list[str] = field(default_factory=list)
    gate: GateResult | None = None
    images: dict[str, str] = field(default_factory=dict)
    validation: ValidationResult | None = None
    data_md5: str | None = None
    base_data_md5: str | None = None
    drift: DriftResult | None = None
    drift_note: str = ""
    model_card: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    run_url: str | None = None
    """This workflow run's page (its job summary and artifacts hold the full report)."""

    @property
    def nothing_changed(self) -> bool:
        """Same params, same data, same metrics as the base."""
        if self.params_changes or self.params_changes is None or self.metrics is None or self.base_metrics is None:
            return False
        same_metrics = all(d.verdict == "unchanged" for d in compare_metrics(self.base_metrics, self.metrics, []))
        return same_metrics and self.data_md5 is not None and self.data_md5 == self.base_data_md5

    @property
    def full_report_at(self) -> str:
        """Where the uncut report is, for a note under a cut table."""
        run = f"[this run]({self.run_url})" if self.run_url else "this run"
        return f"the full report is in {run}'s job summary and in its `report` artifact (`{FULL_REPORT}`)"


def render_report(r: ReportInputs, max_rows: int | None = None) -> str:
    """The report's markdown (pure); tables longer than ``max_rows`` are cut with a line saying where the rest is."""
    why_not = r.metrics_note or "no metrics"
    where = r.full_report_at
    short = (r.head_sha or "")[:7]
    lines = [f"## {r.title}", "", render_status(r.status, r.gate, why_not), ""]
    revisions = f"this PR `{short}`" if short else "this PR"
    revisions += f" vs `{r.base_label}`" + (f" (`{r.base_sha[:7]}`)" if r.base_sha else " (not found)")
    lines += [f"<sub>{revisions}</sub>", ""]
    if r.nothing_changed:
        lines += [f"**Nothing changed** compared to `{r.base_label}`: same params, same data, same metrics.", ""]
    lines += [f"> {note}" for note in r.notes] + ([""] if r.notes else [])
    lines += render_params(r.params_changes, r.base_label, max_rows, where)
    lines += render_metrics(r, max_rows, where)
    lines += render_gate(r.gate, why_not)
    charts = [name for name in r.images if name != "drift"]  # the task's plots, in its order (drift: under Data)
    if charts:
        lines += ["### Plots", "", " ".join(f"![{name.replace('_', ' ')}]({r.images[name]})" for name in charts), ""]
    lines += ["### Data", ""]
    from slipway.data.validation import render_markdown as render_validation

    if r.validation is None:
        lines += ["Schema checks: _did not run_.", ""]
    else:
        lines += [render_validation(r.validation).replace("### Data validation", "**Schema checks**"), ""]
    if r.data_md5:
        same = "unchanged" if r.data_md5 == r.base_data_md5 else f"changed (base `{r.base_data_md5 or '—'}`)"
        lines += [f"Data version: `{r.data_md5}`, {same}.", ""]
    lines += render_drift(r.drift, r.drift_note, r.images.get("drift"), max_rows, where)
    lines += render_model_card(r.model_card)
    return "\n".join(lines).rstrip() + "\n"


def render_comment(r: ReportInputs, budget: int = COMMENT_BUDGET) -> str:
    """The report as a pull-request comment: its long tables (params, metrics, drift) cut, shorter and shorter,
    until it fits in ``budget`` UTF-8 bytes; as a last resort the text itself is cut at a line."""
    for max_rows in (None, 100, 50, 20, 10, 5):
        text = render_report(r, max_rows)
        if len(text.encode()) <= budget:
            return text
    tail = f"\n\n_The report is cut here: {r.full_report_at}._\n"
    head = text.encode()[: budget - len(tail.encode())].decode(errors="ignore")
    return head.rsplit("\n", 1)[0] + tail


def render_model_card(card: dict[str, Any]) -> list[str]:
    if not card:
        return []
    lines = ["### Model card", ""]
    lines.append(f"- **Model family**: `{card.get('family')}`")
    params = ", ".join(f"`{k}={v}`" for k, v in flatten(card.get("params") or {}).items()) or "defaults"
    lines.append(f"- **Params**: {params}")
    features = card.get("features") or []
    lines.append(f"- **Features** ({len(features)}): {', '.join(features)}")
    lines.append(f"- **Training data**: `{card.get('data_path')}`, version `{card.get('data_md5') or 'unknown'}`")
    metrics = card.get("metrics")
    if metrics:
        lines.append("- **Test metrics**: " + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
    lines.append(f"- **Intended use**: {card.get('intended_use')}")
    return [*lines, ""]
