"""How sure is a metric change? The change of every metric between a pull request and its base, with an interval.

Pure: both revisions' metrics, intervals (``outputs/intervals.json``) and per-row predictions
(``outputs/predictions/test.parquet``) in, one :class:`Comparison` out. In order of preference:

- **paired**: both models scored on the same test rows (same data version, same split settings, equal row ids and
  truth): every bootstrap resample is applied to both, so row-level noise cancels and the interval is narrow;
- **unpaired**: the test rows differ (the base's model may have trained on some of this revision's test rows) or the
  base's predictions are not available: each side is resampled on its own rows, or, without predictions, the two
  revisions' intervals are combined (``change_from_intervals``);
- **point**: neither predictions nor intervals on one side: values only (the gate then compares points).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import TYPE_CHECKING, Any, Literal

from slipway.metrics.bootstrap import Bootstrap, Interval
from slipway.pipeline.paths import INTERVALS, PREDICTIONS

if TYPE_CHECKING:
    import pandas as pd

    from slipway.metrics.bootstrap import Metric

INTERVALS_PATH = INTERVALS.as_posix()  # as git and DVC name them at a revision
PREDICTIONS_PATH = PREDICTIONS.as_posix()
Kind = Literal["paired", "unpaired", "point"]


@dataclass(frozen=True)
class SplitKey:
    """What decides which rows a revision tested on: its data version and split settings."""

    data_md5: str | None
    settings: dict[str, Any]
    """``split.*``, ``data.target``, ``data.id_column``, ``data.path``, ``data.task`` (dotted keys)."""


@dataclass(frozen=True)
class Revision:
    """What one revision measured on its test rows."""

    metrics: dict[str, float]
    task: str
    threshold: float
    split: SplitKey | None = None
    intervals: Intervals | None = None
    predictions: pd.DataFrame | None = None
    missing_predictions: str = ""
    """Why ``predictions`` is None, when known."""


@dataclass(frozen=True)
class Change:
    """new - base of one metric, and the interval of that change."""

    metric: str
    delta: float
    interval: Interval
    kind: Kind
    rows: int
    """Test rows the change was measured on (this revision's)."""


@dataclass(frozen=True)
class Comparison:
    """The changes that have an interval (a metric without one is compared as a point), and how they were made."""

    kind: Kind
    level: float
    changes: dict[str, Change]
    note: str
    """One sentence for the report: paired or not, and why."""


@dataclass(frozen=True)
class Intervals:
    """One revision's ``outputs/intervals.json``: each metric's interval over its test rows, and how it was made."""

    values: dict[str, Interval]
    bootstrap: Bootstrap
    rows: int


def parse_intervals(doc: Any) -> Intervals | None:
    """``intervals.json`` (``{"level", "resamples", "seed", "max_rows", "rows", "metrics": {name: {"value", "low",
    "high"}}}``; ``max_rows`` absent in files written before it existed);
    None when the document is missing or malformed."""
    if not isinstance(doc, dict) or not isinstance(doc.get("metrics"), dict):
        return None
    level, resamples, seed, rows = (doc.get(k) for k in ("level", "resamples", "seed", "rows"))
    if not isinstance(level, int | float) or not 0 < level < 1:
        return None
    values = {}
    for name, entry in doc["metrics"].items():
        low, high = (entry.get(k) if isinstance(entry, dict) else None for k in ("low", "high"))
        if isinstance(low, int | float) and isinstance(high, int | float) and math.isfinite(low + high):
            values[str(name)] = Interval(float(low), float(high))
    default = Bootstrap()
    bootstrap = Bootstrap(
        resamples if isinstance(resamples, int) and resamples > 0 else default.resamples,
        float(level),
        seed if isinstance(seed, int) else default.seed,
        doc["max_rows"] if isinstance(doc.get("max_rows"), int) and doc["max_rows"] > 0 else default.max_rows,
    )
    return Intervals(values, bootstrap, rows if isinstance(rows, int) else 0)


def predictions_problem(frame: pd.DataFrame, task: str) -> str | None:
    """What makes a predictions frame unusable for ``task`` (it is read from files a pull request produced)."""
    from pandas.api.types import is_numeric_dtype

    from slipway.pipeline.evaluation.predictions import class_columns

    outputs = {"binary": ["score"], "regression": ["prediction"]}.get(task) or class_columns(frame)
    missing = [column for column in ("id", "y", *(outputs or ["p:<class>"])) if column not in frame.columns]
    if missing:
        return f"no column {', '.join(missing)}"
    if frame.empty:
        return "no rows"
    not_numbers = [column for column in ("y", *outputs) if not is_numeric_dtype(frame[column])]
    return f"not numbers: {', '.join(not_numbers)}" if not_numbers else None


def why_not_paired(current: Revision, base: Revision) -> str | None:
    """Why the two revisions' test rows are not known to be the same rows (None: they are)."""
    if base.predictions is None:
        return f"the base's per-row predictions are not available ({base.missing_predictions or 'not found'})"
    if current.predictions is None:
        return f"this revision's per-row predictions are not available ({current.missing_predictions or 'not found'})"
    if current.split is None or base.split is None:
        return "the base's split settings could not be read"
    return _other_rows(current.split, base.split, current.predictions, base.predictions)


def _other_rows(current: SplitKey, base: SplitKey, a: pd.DataFrame, b: pd.DataFrame) -> str | None:
    trained = "so the base's model may have trained on some of this revision's test rows"
    if current.data_md5 is None or current.data_md5 != base.data_md5:
        return f"the data changed (`{base.data_md5 or '—'}` → `{current.data_md5 or '—'}`), {trained}"
    changed = [
        f"`{key}` {base.settings.get(key)!r} → {value!r}"
        for key, value in current.settings.items()
        if base.settings.get(key) != value
    ]
    if changed:
        return f"the split settings changed ({', '.join(changed)}), {trained}"
    if not all(a[c].reset_index(drop=True).equals(b[c].reset_index(drop=True)) for c in ("id", "y")):
        return f"the test rows differ (other ids or labels), {trained}"
    return None


def metric_pairs(current: Revision, base: Revision, names: list[str]) -> dict[str, tuple[Metric, Metric]]:
    """Each metric's arithmetic at each revision's threshold, for the metrics both revisions report."""
    from slipway.tasks import TASKS

    spec = TASKS[current.task]
    known = [n for n in names if n in spec.metric_names and n in current.metrics and n in base.metrics]
    return {n: (spec.metric(n).function(current.threshold), spec.metric(n).function(base.threshold)) for n in known}


def compare(current: Revision, base: Revision, names: list[str], settings: Bootstrap) -> Comparison:
    """The change of each metric in ``names`` from ``base`` to ``current``, with the best interval available."""
    reason = why_not_paired(current, base) or ""
    if current.predictions is not None and base.predictions is not None and current.task == base.task:
        if not reason:
            rows = len(current.predictions)
            note = f"paired: both models scored on the same {rows:,} test rows, so row-to-row noise cancels"
            return Comparison("paired", settings.level, _from_predictions(current, base, names, settings, True), note)
        note = f"unpaired: {reason}; each revision is resampled on its own test rows"
        return Comparison("unpaired", settings.level, _from_predictions(current, base, names, settings, False), note)
    changes = _from_intervals(current, base, names, settings.level)
    if not changes:
        return Comparison("point", settings.level, {}, f"values only: {reason}, and no intervals to combine")
    note = f"unpaired: {reason}; the change's interval combines both revisions' intervals"
    return Comparison("unpaired", settings.level, changes, note)


def _from_predictions(
    current: Revision, base: Revision, names: list[str], settings: Bootstrap, paired: bool
) -> dict[str, Change]:
    from slipway.metrics.bootstrap import paired_changes, unpaired_changes
    from slipway.pipeline.evaluation.predictions import metric_inputs

    assert current.predictions is not None and base.predictions is not None
    pairs = metric_pairs(current, base, names)
    y, new = metric_inputs(current.predictions, current.task)
    y_base, old = metric_inputs(base.predictions, base.task)
    if paired:
        found = paired_changes(pairs, y, new, old, settings)
    else:
        found = unpaired_changes(pairs, (y, new), (y_base, old), settings)
    kind: Kind = "paired" if paired else "unpaired"
    return {
        name: Change(name, delta, interval, kind, len(y))
        for name, (delta, interval) in found.items()
        if math.isfinite(delta) and math.isfinite(interval.low) and math.isfinite(interval.high)
    }


def _from_intervals(current: Revision, base: Revision, names: list[str], level: float) -> dict[str, Change]:
    from slipway.metrics.bootstrap import change_from_intervals

    if current.intervals is None or base.intervals is None:
        return {}
    new, old = current.intervals, base.intervals
    changes = {}
    for name in names:
        if name not in new.values or name not in old.values or name not in current.metrics or name not in base.metrics:
            continue
        new_ci = at_level(new.values[name], current.metrics[name], new.bootstrap.level, level)
        base_ci = at_level(old.values[name], base.metrics[name], old.bootstrap.level, level)
        delta, interval = change_from_intervals(current.metrics[name], new_ci, base.metrics[name], base_ci)
        changes[name] = Change(name, delta, interval, "unpaired", new.rows)
    return changes


def at_level(interval: Interval, value: float, level: float, wanted: float) -> Interval:
    """An interval computed at ``level`` widened or narrowed to ``wanted`` around ``value`` (normal approximation)."""
    if level == wanted:
        return interval
    scale = NormalDist().inv_cdf((1 + wanted) / 2) / NormalDist().inv_cdf((1 + level) / 2)
    return Interval(value - (value - interval.low) * scale, value + (interval.high - value) * scale)


def worsening(change: Change, lower_is_better: bool) -> tuple[float, Interval]:
    """The change in the metric's bad direction (positive = worse) and its interval."""
    if lower_is_better:
        return change.delta, change.interval
    return -change.delta, Interval(-change.interval.high, -change.interval.low)
