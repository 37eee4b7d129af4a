"""The pull-request report: what changed against the base branch, and whether the model got better.

``slipway report --base main`` writes ``report/report.md`` and its PNGs (and appends the markdown to
``$GITHUB_STEP_SUMMARY`` when set). Sections, picture first: status line (tests, data checks, gate) → params
diff → metrics diff with deltas and better/worse markers → plots, base vs PR → data (rows, schema checks,
per-feature drift against the base's data) → model card.

The base revision's files are read from git (``git show <sha>:params.yaml``, ``outputs/metrics.json`` and
``outputs/plots/*.json`` are git-tracked: ``cache: false`` in dvc.yaml), its data through DVC
(``DVCFileSystem(rev=...)``, from the embedded remote). The base ref is looked up as ``origin/<base>``, then
``<base>``, then fetched shallowly into ``refs/remotes/origin/<base>``; a base without metrics (first PR) or
without the ref at all still gives a report. Rendering is pure (this module); gathering is in ``slipway.review.gather``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from slipway.review.gate import GateResult, worse_by

if TYPE_CHECKING:  # heavy imports (pandera, scipy) only where the report is built, not for `slipway comment`
    from slipway.data.drift import DriftResult
    from slipway.data.validation import ValidationResult


Metrics = dict[str, float]


METRICS_PATH = "outputs/metrics.json"


PLOTS_DIR = "outputs/plots"


VALIDATION_PATH = "outputs/validation/summary.json"


SAME = 1e-9  # metric changes at or below this are "unchanged"


RESULT_ICON = {"success": "✅ passed", "failure": "❌ failed", "cancelled": "⏹️ cancelled", "skipped": "⏭️ skipped"}


VERDICT = {"better": "🟢 better", "worse": "🔴 worse", "unchanged": "⚪ same", "new": "🆕 new", "removed": "removed"}


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
    """better | worse | unchanged | new | removed"""


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


def compare_metrics(base: Metrics | None, current: Metrics, lower_is_better: list[str]) -> list[MetricDelta]:
    """One row per metric in either revision: values, absolute and relative change, better/worse."""
    base = base or {}
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
        rows.append(MetricDelta(metric, old, new, delta, relative, verdict))
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


def format_delta(delta: float | None) -> str:
    return "—" if delta is None else f"{delta:+.4f}"


def format_relative(relative: float | None) -> str:
    return "—" if relative is None else f"{relative:+.2%}"


def _table(header: list[str], align: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|", *("| " + " | ".join(r) + " |" for r in rows)]


def render_params(changes: list[ParamChange] | None, base_label: str) -> list[str]:
    lines = [f"### Params vs `{base_label}`", ""]
    if changes is None:
        return [*lines, f"_No params at `{base_label}` to compare with._", ""]
    if not changes:
        return [*lines, "No params changed.", ""]
    rows = [[f"`{c.key}`", format_value(c.base), format_value(c.current)] for c in changes]
    return [*lines, *_table(["param", base_label, "this PR"], ["---", "---:", "---:"], rows), ""]


def render_metrics(deltas: list[MetricDelta], base_label: str, has_base: bool) -> list[str]:
    lines = [f"### Metrics vs `{base_label}`", ""]
    if not has_base:
        lines += [f"_`{base_label}` has no metrics yet (first pull request?): showing this PR's only._", ""]
    rows = [
        [
            f"`{d.metric}`",
            format_value(d.base),
            format_value(d.current),
            format_delta(d.delta),
            format_relative(d.relative),
            VERDICT[d.verdict],
        ]
        for d in deltas
    ]
    header = ["metric", base_label, "this PR", "change", "change %", ""]
    return [*lines, *_table(header, ["---", "---:", "---:", "---:", "---:", "---"], rows), ""]


def gate_summary(gate: GateResult | None, why_not: str) -> str:
    if gate is None:
        return f"⏸️ not run ({why_not})"
    if gate.passed:
        return "✅ passed"
    return "❌ failed: " + "; ".join(c.message for c in gate.failures)


def render_gate(gate: GateResult | None, why_not: str) -> list[str]:
    lines = ["### Quality gate", ""]
    if gate is None:
        return [*lines, f"Not run: {why_not}.", ""]
    lines.append("**Passed**: every check holds." if gate.passed else f"**Failed**: {len(gate.failures)} check(s).")
    lines.append("")
    lines += [f"- ❌ {c.message}" for c in gate.failures]
    lines += [f"- ✅ {c.message}" for c in gate.checks if c.passed]
    lines += [f"- note: {note}" for note in gate.notes]
    return [*lines, ""]


def render_status(status: Status, gate: GateResult | None, why_not: str) -> str:
    def result(value: str) -> str:
        return RESULT_ICON.get(value, value or "— not run here")

    gate_text = gate_summary(gate, why_not)
    return f"**Tests** {result(status.tests)} · **Data checks** {result(status.data)} · **Gate** {gate_text}"


def render_drift(drift: DriftResult | None, note: str, image: str | None) -> list[str]:
    if drift is None:
        return [f"Drift vs base data: _{note}_", ""]
    head = (
        f"Drift vs the base's data ({drift.reference_rows:,} rows → {drift.current_rows:,} rows; drifted when "
        f"PSI ≥ {drift.settings.psi_threshold:g}, or KS p-value < {drift.settings.ks_alpha:g} "
        f"and D ≥ {drift.settings.ks_min_statistic:g}): "
        + (f"**{len(drift.drifted)} feature(s) drifted**: {', '.join(drift.drifted)}." if drift.drifted else "none.")
    )
    rows = [
        [
            f"`{f.feature}`",
            f.kind,
            format_value(f.psi),
            "—" if f.ks_pvalue is None else f"{f.ks_pvalue:.3g}",
            "⚠️ " + f.reason if f.drifted else "stable",
        ]
        for f in drift.features
    ]
    lines = [
        head,
        "",
        *_table(["feature", "kind", "PSI", "KS p-value", "drift"], ["---", "---", "---:", "---:", "---"], rows),
    ]
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

    @property
    def nothing_changed(self) -> bool:
        """Same params, same data, same metrics as the base."""
        if self.params_changes or self.params_changes is None or self.metrics is None or self.base_metrics is None:
            return False
        same_metrics = all(d.verdict == "unchanged" for d in compare_metrics(self.base_metrics, self.metrics, []))
        return same_metrics and self.data_md5 is not None and self.data_md5 == self.base_data_md5


def render_report(r: ReportInputs) -> str:
    """The report's markdown (pure)."""
    why_not = r.metrics_note or "no metrics"
    short = (r.head_sha or "")[:7]
    lines = [f"## {r.title}", "", render_status(r.status, r.gate, why_not), ""]
    revisions = f"this PR `{short}`" if short else "this PR"
    revisions += f" vs `{r.base_label}`" + (f" (`{r.base_sha[:7]}`)" if r.base_sha else " (not found)")
    lines += [f"<sub>{revisions}</sub>", ""]
    if r.nothing_changed:
        lines += [f"**Nothing changed** compared to `{r.base_label}`: same params, same data, same metrics.", ""]
    lines += [f"> {note}" for note in r.notes] + ([""] if r.notes else [])
    lines += render_params(r.params_changes, r.base_label)
    if r.metrics is None:
        lines += [f"### Metrics vs `{r.base_label}`", "", f"_No metrics for this PR: {why_not}._", ""]
    else:
        deltas = compare_metrics(r.base_metrics, r.metrics, r.lower_is_better)
        lines += render_metrics(deltas, r.base_label, r.base_metrics is not None)
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
    lines += render_drift(r.drift, r.drift_note, r.images.get("drift"))
    lines += render_model_card(r.model_card)
    return "\n".join(lines).rstrip() + "\n"


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
