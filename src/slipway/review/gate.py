"""The quality gate: may this model replace the base's? Pure: metric dicts, the comparison and GateConfig in, a
verdict out.

Checks, from ``params.yaml`` ``gate:``: absolute floors (``minimum``) and ceilings (``maximum``) on this revision's
values, and the largest allowed regression against the base (``max_regression``, in the metric's units; direction
from ``lower_is_better``). Without base metrics (the first pull request) only the absolute limits apply.

A regression check has three verdicts. With ``mode: interval`` (the default) it reads the interval of the change
(``slipway.review.comparison``) at the confidence level of ``evaluate.bootstrap.level``:

- **pass**: the whole interval is within the allowed regression;
- **fail**: the whole interval is beyond it: the metric got worse than allowed, with that confidence;
- **inconclusive**: the interval straddles it: the check passes with a warning saying about how many more test rows
  would decide it.

A metric without an interval, and every metric with ``mode: point``, compares the two values as they are: fail when
the drop exceeds the allowance, else pass.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from slipway.config import GateConfig
from slipway.metrics.bootstrap import Verdict, rows_to_decide, verdict
from slipway.review.comparison import Change, Comparison, worsening

Metrics = dict[str, float]


@dataclass(frozen=True)
class GateCheck:
    """One check of one metric."""

    metric: str
    kind: Literal["minimum", "maximum", "regression"]
    value: float | None
    limit: float
    base: float | None
    verdict: Verdict
    message: str
    worse_low: float | None = None
    worse_high: float | None = None
    """The interval of the change in the bad direction (regression checks decided by an interval)."""
    more_rows: int | None = None
    """Inconclusive checks: about how many more test rows would decide."""

    @property
    def passed(self) -> bool:
        return self.verdict != "fail"


@dataclass(frozen=True)
class GateResult:
    """Every check, and notes about checks that could not run."""

    checks: list[GateCheck]
    notes: list[str]

    @property
    def verdict(self) -> Verdict:
        """fail if any check fails, else inconclusive if any is, else pass."""
        verdicts = {check.verdict for check in self.checks}
        return "fail" if "fail" in verdicts else ("inconclusive" if "inconclusive" in verdicts else "pass")

    @property
    def passed(self) -> bool:
        """The gate lets the model through (pass, or inconclusive with a warning)."""
        return self.verdict != "fail"

    @property
    def failures(self) -> list[GateCheck]:
        return [check for check in self.checks if check.verdict == "fail"]

    @property
    def inconclusive(self) -> list[GateCheck]:
        return [check for check in self.checks if check.verdict == "inconclusive"]

    def to_dict(self) -> dict[str, Any]:
        checks = [asdict(c) | {"passed": c.passed} for c in self.checks]
        return {"verdict": self.verdict, "passed": self.passed, "checks": checks, "notes": self.notes}


def worse_by(metric: str, value: float, base: float, lower_is_better: list[str]) -> float:
    """How much worse ``value`` is than ``base`` (positive = worse, negative = better)."""
    return value - base if metric in lower_is_better else base - value


def _verdict(passed: bool) -> Verdict:
    return "pass" if passed else "fail"


def _limit(metric: str, value: float | None, limit: float, kind: Literal["minimum", "maximum"]) -> GateCheck:
    if value is None:
        return GateCheck(metric, kind, None, limit, None, "fail", f"{metric} is missing from the metrics")
    ok = value >= limit if kind == "minimum" else value <= limit
    relation = ("at least" if kind == "minimum" else "at most") if ok else ("below" if kind == "minimum" else "above")
    message = f"{metric} {value:.4f} is {relation} the {kind} {limit:g}"
    return GateCheck(metric, kind, value, limit, None, _verdict(ok), message)


def _regression(metric: str, value: float, base: float, allowed: float, lower: list[str]) -> GateCheck:
    """Point comparison: the two values as they are."""
    drop = worse_by(metric, value, base, lower)
    direction = "rose" if metric in lower else "fell"
    if drop > allowed + 1e-12:
        relative = f" ({drop / abs(base):.1%})" if base else ""
        message = (
            f"{metric} {direction} by {drop:.4f}{relative}: {base:.4f} -> {value:.4f}, "
            f"more than the allowed {allowed:g}"
        )
        return GateCheck(metric, "regression", value, allowed, base, "fail", message)
    message = f"{metric} {base:.4f} -> {value:.4f} (allowed to get worse by up to {allowed:g})"
    return GateCheck(metric, "regression", value, allowed, base, "pass", message)


def describe_change(change: Change, level: float) -> str:
    """``fell by 0.0147 (95% interval 0.0080 to 0.0216, paired on 2,000 rows)``, in the metric's own units."""
    falls = change.delta < 0
    low, high = (-change.interval.high, -change.interval.low) if falls else (change.interval.low, change.interval.high)
    rows = f" on {change.rows:,} rows" if change.rows else ""
    moved = f"{'fell' if falls else 'rose'} by {abs(change.delta):.4f}" if abs(change.delta) > 1e-12 else "unchanged"
    return f"{moved} ({level:.0%} interval {low:.4f} to {high:.4f}, {change.kind}{rows})"


def _interval_regression(
    metric: str, value: float, base: float, allowed: float, change: Change, lower: bool, level: float
) -> GateCheck:
    """Interval comparison: where the interval of the change lies against the allowed regression."""
    point, worse = worsening(change, lower)
    decided = verdict(worse, allowed)
    what = f"{metric} {describe_change(change, level)}: {base:.4f} -> {value:.4f}"
    more = rows_to_decide(change.rows, point, worse, allowed) if decided == "inconclusive" and change.rows else None
    if decided == "fail":
        message = f"{what}, worse than the allowed {allowed:g} with {level:.0%} confidence"
    elif decided == "pass":
        message = f"{what}, within the allowed {allowed:g}"
    else:
        message = f"{what}: too uncertain to tell against the allowed {allowed:g}{_rows_needed(more, change.rows)}"
    return GateCheck(metric, "regression", value, allowed, base, decided, message, worse.low, worse.high, more)


def _rows_needed(more: int | None, rows: int) -> str:
    if more is None:
        return ""
    if more > 10 * rows:
        return f": the change is about as large as the allowance itself, only far more test rows (~{more:,}) would tell"
    return f": about {more:,} more test rows would decide it"


def _regressions(metrics: Metrics, base: Metrics, settings: GateConfig, comparison: Comparison | None) -> GateResult:
    checks, notes = [], []
    for metric, allowed in settings.max_regression.items():
        value = metrics.get(metric)
        if metric not in base:
            notes.append(f"{metric}: not in the base metrics, regression not checked")
            continue
        if value is None:
            missing = f"{metric} is missing from the metrics"
            checks.append(GateCheck(metric, "regression", None, allowed, base[metric], "fail", missing))
            continue
        change = comparison.changes.get(metric) if comparison is not None else None
        if settings.mode == "interval" and change is not None:
            assert comparison is not None
            lower = metric in settings.lower_is_better
            checks.append(_interval_regression(metric, value, base[metric], allowed, change, lower, comparison.level))
            continue
        if settings.mode == "interval" and comparison is not None:
            notes.append(f"{metric}: no interval for the change, compared as values")
        checks.append(_regression(metric, value, base[metric], allowed, settings.lower_is_better))
    return GateResult(checks, notes)


def evaluate_gate(
    metrics: Metrics, base: Metrics | None, settings: GateConfig, comparison: Comparison | None = None
) -> GateResult:
    """Run every configured check on ``metrics`` against ``base`` (None: no base metrics yet); with
    ``mode: interval``, a regression is decided by ``comparison``'s interval of the change where it has one."""
    checks = [_limit(m, metrics.get(m), limit, "minimum") for m, limit in settings.minimum.items()]
    checks += [_limit(m, metrics.get(m), limit, "maximum") for m, limit in settings.maximum.items()]
    if base is None:
        return GateResult(checks, ["no base metrics (first pull request?): only the absolute limits apply"])
    regressions = _regressions(metrics, base, settings, comparison)
    notes = list(regressions.notes)
    if comparison is not None and settings.mode == "interval" and settings.max_regression:
        notes.insert(0, f"comparison with the base — {comparison.note}")
    return GateResult(checks + regressions.checks, notes)


HEADLINE = {"pass": "gate PASSED", "inconclusive": "gate INCONCLUSIVE", "fail": "gate FAILED"}


def headline(result: GateResult) -> str:
    """``gate PASSED`` / ``gate INCONCLUSIVE (passes with a warning: 1 of 9 checks)`` / ``gate FAILED (...)``."""
    if result.verdict == "fail":
        return f"gate FAILED ({len(result.failures)} of {len(result.checks)} checks)"
    if result.verdict == "inconclusive":
        return f"gate INCONCLUSIVE (passes with a warning: {len(result.inconclusive)} of {len(result.checks)} checks)"
    return "gate PASSED"


def render_text(result: GateResult) -> str:
    """The verdict for a terminal or a log: failures first, then the inconclusive checks, with the reason."""
    lines = [headline(result)]
    lines += [f"  FAIL {c.message}" for c in result.failures]
    lines += [f"  WARN {c.message}" for c in result.inconclusive]
    lines += [f"  ok   {c.message}" for c in result.checks if c.verdict == "pass"]
    lines += [f"  note {n}" for n in result.notes]
    return "\n".join(lines)
