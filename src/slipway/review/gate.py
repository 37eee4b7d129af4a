"""The quality gate: may this model replace the base's? Pure: metric dicts and GateConfig in, a verdict out.

Checks, from ``params.yaml`` ``gate:``: absolute floors (``minimum``) and ceilings (``maximum``), and the largest
allowed regression against the base (``max_regression``, in the metric's units; direction from
``lower_is_better``). Without base metrics (the first pull request) only the absolute limits apply.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from slipway.config import GateConfig

Metrics = dict[str, float]


@dataclass(frozen=True)
class GateCheck:
    """One check of one metric."""

    metric: str
    kind: Literal["minimum", "maximum", "regression"]
    value: float | None
    limit: float
    base: float | None
    passed: bool
    message: str


@dataclass(frozen=True)
class GateResult:
    """Every check, and notes about checks that could not run."""

    checks: list[GateCheck]
    notes: list[str]

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def failures(self) -> list[GateCheck]:
        return [check for check in self.checks if not check.passed]

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "checks": [asdict(c) for c in self.checks], "notes": self.notes}


def worse_by(metric: str, value: float, base: float, lower_is_better: list[str]) -> float:
    """How much worse ``value`` is than ``base`` (positive = worse, negative = better)."""
    return value - base if metric in lower_is_better else base - value


def _limit(metric: str, value: float | None, limit: float, kind: Literal["minimum", "maximum"]) -> GateCheck:
    if value is None:
        return GateCheck(metric, kind, None, limit, None, False, f"{metric} is missing from the metrics")
    ok = value >= limit if kind == "minimum" else value <= limit
    relation = ("at least" if kind == "minimum" else "at most") if ok else ("below" if kind == "minimum" else "above")
    message = f"{metric} {value:.4f} is {relation} the {kind} {limit:g}"
    return GateCheck(metric, kind, value, limit, None, ok, message)


def _regression(metric: str, value: float | None, base: float | None, allowed: float, lower: list[str]) -> GateCheck:
    if value is None:
        return GateCheck(metric, "regression", None, allowed, base, False, f"{metric} is missing from the metrics")
    assert base is not None
    drop = worse_by(metric, value, base, lower)
    direction = "rose" if metric in lower else "fell"
    if drop > allowed + 1e-12:
        relative = f" ({drop / abs(base):.1%})" if base else ""
        message = (
            f"{metric} {direction} by {drop:.4f}{relative}: {base:.4f} -> {value:.4f}, "
            f"more than the allowed {allowed:g}"
        )
        return GateCheck(metric, "regression", value, allowed, base, False, message)
    message = f"{metric} {base:.4f} -> {value:.4f} (allowed to get worse by up to {allowed:g})"
    return GateCheck(metric, "regression", value, allowed, base, True, message)


def evaluate_gate(metrics: Metrics, base: Metrics | None, settings: GateConfig) -> GateResult:
    """Run every configured check on ``metrics`` against ``base`` (None: no base metrics yet)."""
    checks = [_limit(m, metrics.get(m), limit, "minimum") for m, limit in settings.minimum.items()]
    checks += [_limit(m, metrics.get(m), limit, "maximum") for m, limit in settings.maximum.items()]
    notes = []
    if base is None:
        notes.append("no base metrics (first pull request?): only the absolute limits apply")
    else:
        for metric, allowed in settings.max_regression.items():
            if metric not in base:
                notes.append(f"{metric}: not in the base metrics, regression not checked")
                continue
            checks.append(_regression(metric, metrics.get(metric), base[metric], allowed, settings.lower_is_better))
    return GateResult(checks, notes)


def render_text(result: GateResult) -> str:
    """The verdict for a terminal or a log: failures first, with the reason."""
    head = "gate PASSED" if result.passed else f"gate FAILED ({len(result.failures)} of {len(result.checks)} checks)"
    lines = [head]
    lines += [f"  FAIL {c.message}" for c in result.failures]
    lines += [f"  ok   {c.message}" for c in result.checks if c.passed]
    lines += [f"  note {n}" for n in result.notes]
    return "\n".join(lines)
