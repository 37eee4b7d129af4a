"""Infer schema, task and features from a table: pure, a DataFrame in, a :class:`Plan` out.

Raises :class:`AdoptError` with a message a person can act on."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import pandas as pd
import pandera.pandas as pa

import slipway.data.schema  # noqa: F401  (registers the dataset-level checks the schema uses)
from slipway.config import Task

TaskChoice = Literal["auto", "binary", "multiclass", "regression"]


MAX_CATEGORIES = 20
"""A text column with at most this many distinct values is a categorical feature with an allowed-values check."""


MAX_AUTO_CLASSES = 10
"""An integer target with at most this many distinct values is taken as classes when the task is ``auto``."""


MIN_ROWS = 20


RANGE_MARGIN = 0.1
"""Observed ranges are widened by this fraction of the column's span on each side (not below 0 if never negative)."""


class AdoptError(ValueError):
    """The table cannot be adopted as it is; the message says why and what to do."""


@dataclass(frozen=True)
class AdoptOptions:
    target: str
    id_column: str | None = None
    time_column: str | None = None
    task: TaskChoice = "auto"
    max_categories: int = MAX_CATEGORIES
    margin: float = RANGE_MARGIN


@dataclass(frozen=True)
class Plan:
    """Everything adopt decided about a table."""

    source: str
    rows: int
    columns: int
    target: str
    task: Task
    task_reason: str
    classes: list[Any] | None
    id_column: str | None
    time_column: str | None
    numeric: list[str]
    categorical: list[str]
    excluded: dict[str, str]
    missing: dict[str, int]
    schema: pa.DataFrameSchema
    baseline: float = 0.0
    """Classification: the share of the positive (binary) or most frequent (multiclass) class. Regression: the
    target's standard deviation (the RMSE of always predicting the mean)."""
    review: list[str] = field(default_factory=list)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def infer_task(y: pd.Series, requested: TaskChoice, max_auto_classes: int = MAX_AUTO_CLASSES) -> tuple[Task, str]:
    """The task for target ``y`` and why; raises AdoptError when the target cannot support it."""
    name = y.name
    values = y.dropna()
    classes = values.nunique()
    if classes < 2:
        shown = f" (every row is {_plain(values.iloc[0])!r})" if len(values) else ""
        raise AdoptError(f"target {name!r} has a single value{shown}: a model needs at least two classes or values")
    numeric = _is_numeric(y)
    integral = numeric and bool(np.all(np.mod(values.to_numpy(dtype=float), 1) == 0))
    if requested == "regression":
        if not numeric:
            raise AdoptError(f"target {name!r} is not numeric ({y.dtype}): regression needs numbers")
        return "regression", "as requested"
    if requested == "binary":
        if classes != 2:
            raise AdoptError(f"target {name!r} has {classes} classes, binary needs exactly 2 (try --task multiclass)")
        return "binary", "as requested"
    if requested == "multiclass":
        if classes < 3:
            raise AdoptError(f"target {name!r} has 2 classes: use --task binary")
        return "multiclass", "as requested"
    if classes == 2:
        return "binary", f"target {name!r} has 2 distinct values"
    if not numeric:
        return "multiclass", f"target {name!r} is text with {classes} distinct values"
    if integral and classes <= max_auto_classes:
        return "multiclass", f"target {name!r} holds {classes} distinct whole numbers (<= {max_auto_classes})"
    kind = "whole numbers" if integral else "numbers"
    return "regression", f"target {name!r} holds {classes} distinct {kind}"


def _round_out(value: float, step: float, down: bool) -> float:
    scaled = math.floor(value / step) if down else math.ceil(value / step)
    return round(scaled * step, max(0, -math.floor(math.log10(step))))


def widened_range(series: pd.Series, margin: float) -> tuple[float, float]:
    """The observed [min, max] widened by ``margin`` x span on each side, rounded outwards to a readable step.

    A column that is never negative keeps 0 as its floor; whole-number columns get whole-number bounds.
    """
    lo, hi = float(series.min()), float(series.max())
    span = hi - lo
    pad = margin * span if span > 0 else max(abs(hi) * margin, 1.0)
    step = 10.0 ** math.floor(math.log10(pad))
    low, high = _round_out(lo - pad, step, down=True), _round_out(hi + pad, step, down=False)
    if lo >= 0:
        low = max(low, 0.0)
    if pd.api.types.is_integer_dtype(series) or step >= 1:
        low, high = float(math.floor(low)), float(math.ceil(high))
    return low, high


def _range_check(series: pd.Series, margin: float) -> pa.Check:
    low, high = widened_range(series.dropna(), margin)
    if pd.api.types.is_integer_dtype(series):
        return pa.Check.in_range(int(low), int(high))
    return pa.Check.in_range(low, high)


def _categories(series: pd.Series) -> list[Any]:
    return sorted(_plain(v) for v in series.dropna().unique())


def _read_times(series: pd.Series, name: str) -> None:
    try:
        parsed = pd.to_datetime(series.dropna(), errors="raise")
    except (ValueError, TypeError) as error:
        raise AdoptError(f"time column {name!r} cannot be read as dates/times ({error})") from None
    if parsed.dt.tz is not None:
        raise AdoptError(f"time column {name!r} has time zones: store it as UTC without an offset")


def _check_columns(df: pd.DataFrame, options: AdoptOptions) -> None:
    if df.empty:
        raise AdoptError("the table has no rows")
    if len(df) < MIN_ROWS:
        raise AdoptError(f"the table has {len(df)} rows; adopt needs at least {MIN_ROWS} to split, train and test")
    bad = [c for c in df.columns if not isinstance(c, str) or not c.strip()]
    if bad:
        raise AdoptError(f"every column needs a text name; found {bad}")
    for role, name in (("target", options.target), ("id", options.id_column), ("time", options.time_column)):
        if name is not None and name not in df.columns:
            listed = ", ".join(map(str, df.columns[:12])) + (", ..." if len(df.columns) > 12 else "")
            raise AdoptError(f"{role} column {name!r} is not in the table (columns: {listed})")
    roles = [n for n in (options.target, options.id_column, options.time_column) if n is not None]
    if len(set(roles)) != len(roles):
        raise AdoptError("target, id and time must be different columns")
    missing_target = int(df[options.target].isna().sum())
    if missing_target:
        raise AdoptError(
            f"target {options.target!r} is missing in {missing_target} rows: drop or fill those rows first"
        )
    if options.id_column is not None:
        ids = df[options.id_column]
        if ids.isna().any() or ids.duplicated().any():
            dupes = int(ids.duplicated().sum())
            raise AdoptError(
                f"id column {options.id_column!r} must be unique and never empty "
                f"({dupes} duplicate and {int(ids.isna().sum())} missing values)"
            )
    if options.time_column is not None:
        _read_times(df[options.time_column], options.time_column)


def _target_column(y: pd.Series, task: Task, dtype: Any, margin: float) -> tuple[pa.Column, list[Any] | None]:
    if task == "regression":
        return pa.Column(dtype, _range_check(y, margin), nullable=False, description="target"), None
    classes = _categories(y)
    counts = y.value_counts()
    rare = [(_plain(k), int(v)) for k, v in counts.items() if v < 2]
    if rare:
        raise AdoptError(f"target classes with fewer than 2 rows cannot be split for testing: {rare}")
    return pa.Column(dtype, pa.Check.isin(classes), nullable=False, description="target"), classes


def _feature_column(
    series: pd.Series, dtype: Any, nullable: bool, options: AdoptOptions
) -> tuple[pa.Column, str, str | None]:
    """A feature's schema column, its kind (numeric or categorical) and why it is left out of the model (or None)."""
    if series.isna().all():
        return pa.Column(dtype, nullable=True), "numeric", "always empty"
    if _is_numeric(series):
        column = pa.Column(dtype, _range_check(series, options.margin), nullable=nullable)
        return column, "numeric", "constant" if series.nunique() == 1 else None
    if pd.api.types.is_bool_dtype(series):
        return pa.Column(dtype, nullable=nullable), "categorical", None
    distinct = series.nunique()
    if distinct <= options.max_categories:
        allowed = _categories(series)
        column = pa.Column(dtype, pa.Check.isin(allowed), nullable=nullable)
        return column, "categorical", "constant" if len(allowed) == 1 else None
    return (
        pa.Column(dtype, nullable=nullable),
        "categorical",
        f"text with {distinct} distinct values (more than {options.max_categories})",
    )


def _baseline(target: pd.Series, task: Task, classes: list[Any] | None) -> float:
    """A trivial model's figure: the target's spread (regression), the positive share (binary), the majority share."""
    if task == "regression":
        return float(pd.to_numeric(target).std(ddof=0))
    shares = target.value_counts(normalize=True)
    if task == "binary":
        assert classes is not None  # a classification target's column comes with its classes
        return float(shares[classes[-1]])
    return float(shares.max())


def plan_adoption(df: pd.DataFrame, options: AdoptOptions, source: str = "table") -> Plan:
    """Decide task, features and schema for ``df``; raise AdoptError if it cannot be adopted."""
    _check_columns(df, options)
    task, reason = infer_task(df[options.target], options.task)
    # a DataFrame's schema: pandera's overloads, with pandas untyped here, would pick the Series one
    inferred = cast(pa.DataFrameSchema, pa.infer_schema(df))
    columns: dict[str, pa.Column] = {}
    numeric: list[str] = []
    categorical: list[str] = []
    excluded: dict[str, str] = {}
    review: list[str] = []
    classes: list[Any] | None = None
    for name in df.columns:
        series = df[name]
        dtype = inferred.columns[name].dtype
        nullable = bool(series.isna().any())
        if name == options.target:
            columns[name], classes = _target_column(series, task, dtype, options.margin)
        elif name == options.id_column:
            columns[name] = pa.Column(dtype, unique=True, nullable=False, description="row identifier, unique")
        elif name == options.time_column:
            columns[name] = pa.Column("datetime64[ns]", nullable=nullable, description="event time, not a feature")
        else:
            columns[name], kind, why = _feature_column(series, dtype, nullable, options)
            if why:
                excluded[name] = why
            else:
                (numeric if kind == "numeric" else categorical).append(name)
    if not numeric and not categorical:
        raise AdoptError("no usable feature columns are left after the target, id and time columns")
    checks = [] if task == "regression" else [pa.Check.column_has_classes(column=options.target, min_classes=2)]
    stem = Path(source).stem.replace("-", "_") or "table"
    schema = pa.DataFrameSchema(columns, checks=checks, coerce=True, strict=True, name=f"{stem}_raw")
    try:
        schema.validate(df, lazy=True)
    except pa.errors.SchemaErrors as error:  # the inferred schema must accept the very table it came from
        raise AdoptError(f"the inferred schema rejects the table itself:\n{error.failure_cases.head()}") from None
    missing = {name: int(n) for name, n in df.isna().sum().items() if n and name in (*numeric, *categorical)}
    baseline = _baseline(df[options.target], task, classes)
    review.extend(_review_notes(task, classes, categorical, excluded, missing, options))
    return Plan(
        source=source,
        rows=len(df),
        columns=len(df.columns),
        target=options.target,
        task=task,
        task_reason=reason,
        classes=classes,
        id_column=options.id_column,
        time_column=options.time_column,
        numeric=numeric,
        categorical=categorical,
        excluded=excluded,
        missing=missing,
        schema=schema,
        baseline=baseline,
        review=review,
    )


def _review_notes(
    task: Task,
    classes: list[Any] | None,
    categorical: list[str],
    excluded: dict[str, str],
    missing: dict[str, int],
    options: AdoptOptions,
) -> list[str]:
    notes = [
        f"schema.yaml: numeric ranges are the observed ones widened by {options.margin:.0%} of each span; "
        "set them to what valid data can really be",
    ]
    if categorical:
        notes.append("schema.yaml: `isin` lists hold only the categories seen; a new category will fail validation")
    if excluded:
        notes.append(f"params.yaml features: left out {sorted(excluded)}; add any you want the model to use")
    if missing:
        notes.append("missing values are imputed by the feature pipeline (median / most frequent)")
    if options.id_column is None:
        notes.append("no --id column: rows cannot be joined with labels that arrive later (monitoring)")
    if task == "binary" and classes is not None:
        notes.append(f"binary metrics treat {classes[-1]!r} as the positive class")
    if task != "binary":
        notes.append(f"evaluate.threshold and calibration settings apply to binary tasks only (task is {task})")
    notes.append("dvc.yaml `artifacts: model` and params.yaml `report.intended_use` still describe the demo model")
    return notes


def _listing(names: list[str]) -> str:
    return ", ".join(names) if names else "(none)"


def describe(plan: Plan) -> str:
    """What adopt decided, for a terminal."""
    lines = [
        f"table: {plan.source} ({plan.rows:,} rows, {plan.columns} columns)",
        f"task: {plan.task} ({plan.task_reason})",
        f"target: {plan.target}" + (f" (classes: {', '.join(map(str, plan.classes))})" if plan.classes else ""),
        f"id column: {plan.id_column or '(none)'}; time column: {plan.time_column or '(none)'}",
        f"numeric features ({len(plan.numeric)}): {_listing(plan.numeric)}",
        f"categorical features ({len(plan.categorical)}): {_listing(plan.categorical)}",
    ]
    for name, why in plan.excluded.items():
        lines.append(f"not a feature: {name} ({why})")
    if plan.missing:
        lines.append("missing values: " + ", ".join(f"{k} ({v:,} rows)" for k, v in plan.missing.items()))
    return "\n".join(lines)
