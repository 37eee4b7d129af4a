"""Run the raw-data schema and turn failures into a report a person can act on.

Validation passes only a table the later stages can use, and hands on the table it checked:

1. the pandera schema, with coercion to the schema's types;
2. lossless coercion: a value that coercion would change (12.5 read as the integer 12, ``True`` as 1, 1e20 as an
   overflowed integer, a text read as empty) is a failure, never a silent rewrite;
3. what the pipeline needs (:class:`PipelineNeeds`, from params.yaml): enough rows for ``split.test_size``, enough
   rows of every class to stratify (in both splits for a binary target, in the training split for multiclass), a
   target in every row, no infinite numbers, features that hold values in the training split.

A table that passes comes back typed (:attr:`ValidationResult.table`): that, not the raw file, is what trains.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pandera.pandas as pa

from slipway.data.tables import DataReadError, read_table, split

if TYPE_CHECKING:
    from slipway.config import Config

MAX_EXAMPLES = 5
MIN_SPLIT_ROWS = 2
"""Rows each split needs at least (R² and every curve need two test rows)."""
LOSSY = "lossy type coercion"


@dataclass(frozen=True)
class Failure:
    """One failing check: where, what, how often, and a few examples."""

    column: str
    check: str
    failures: int
    examples: list[dict[str, object]] = field(default_factory=list)


@dataclass(frozen=True)
class ValidationResult:
    """The outcome of validating one table; ``table`` is the schema-typed table when it passed."""

    source: str
    rows: int
    columns: int
    failures: list[Failure]
    table: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_json(self) -> str:
        failures = [asdict(f) for f in self.failures]
        summary = {"ok": self.ok, "source": self.source, "rows": self.rows, "columns": self.columns}
        return json.dumps({**summary, "failures": failures}, indent=2, default=str)


@dataclass(frozen=True)
class PipelineNeeds:
    """What the stages after validate need from the table (params.yaml: data, features, split)."""

    target: str
    features: tuple[str, ...]
    task: str = "binary"
    test_size: float = 0.2
    seed: int = 42

    @property
    def classification(self) -> bool:
        return self.task != "regression"

    @classmethod
    def from_config(cls, config: Config) -> PipelineNeeds:
        return cls(
            config.data.target,
            tuple(config.features.all),
            config.data.task,
            config.split.test_size,
            config.split.seed,
        )


def _plain(value: object) -> object:
    if isinstance(value, float) and pd.isna(value):
        return None
    return value.item() if hasattr(value, "item") else value


def _failures(error: pa.errors.SchemaErrors) -> list[Failure]:
    cases = error.failure_cases.copy()
    cases["column"] = cases["column"].fillna("(table)").astype(str)
    cases["check"] = cases["check"].astype(str)
    result = []
    for (column, check), group in cases.groupby(["column", "check"], sort=False):
        if check == "column_in_schema":
            column = str(group["failure_case"].iloc[0])
            check = "column not in schema (extra column)"
        elif check == "column_in_dataframe":
            column = str(group["failure_case"].iloc[0])
            check = "column missing from data"
        examples = [
            {"row": _plain(row["index"]), "value": _plain(row["failure_case"])}
            for _, row in group.head(MAX_EXAMPLES).iterrows()
        ]
        result.append(Failure(column=column, check=check, failures=len(group), examples=examples))
    return result


def _rows_failure(column: str, check: str, rows: pd.Series) -> Failure:
    """A failure for the rows where ``rows`` is True (``rows`` holds the raw values it shows as examples)."""
    examples = [{"row": _plain(i), "value": _plain(v)} for i, v in rows.head(MAX_EXAMPLES).items()]
    return Failure(column, check, len(rows), examples)


# --- lossless coercion -------------------------------------------------------------------------------------------


def _is_bool(value: object) -> bool:
    return isinstance(value, bool | np.bool_)


def _as_number(text: str) -> int | float | None:
    for parse in (int, float):
        try:
            return parse(text)
        except ValueError:
            continue
    return None


def _same_value(raw: Any, typed: Any, float_target: bool) -> bool:
    """Whether coercion kept the value: numbers stay equal (exactly, but a float may round to the column's
    precision), booleans stay booleans, text parses to the same number or boolean."""
    raw, typed = _plain(raw), _plain(typed)
    if _is_bool(typed):
        if isinstance(raw, str):
            return raw.strip().lower() == str(typed).lower()
        return _is_bool(raw) and raw == typed
    if _is_bool(raw):
        return False  # a boolean is not a number: True must not become 1
    if isinstance(raw, str):
        raw = _as_number(raw.strip())
    if isinstance(raw, float) and float_target:
        return True  # float to float (e.g. float32): rounding to the column's precision
    return isinstance(raw, int | float) and raw == typed


def changed_values(raw: pd.Series, typed: pd.Series) -> pd.Series:
    """True where coercing ``raw`` to ``typed`` changed a value: emptied it, filled it, or altered it."""
    raw_null = raw.isna().to_numpy()
    changed = pd.Series(raw_null != typed.isna().to_numpy(), index=raw.index)
    if raw.dtype == typed.dtype:
        return changed
    numeric = pd.api.types.is_numeric_dtype(typed) or pd.api.types.is_bool_dtype(typed)
    if not numeric:
        return changed  # text, dates, categories: coercion either parses a value or fails (pandera reports it)
    float_target = pd.api.types.is_float_dtype(typed)
    both = ~changed & ~raw_null
    pairs = zip(raw[both].to_numpy(object), typed[both].to_numpy(object), strict=True)
    same = [_same_value(r, t, float_target) for r, t in pairs]
    changed[both] = ~np.asarray(same, dtype=bool)
    return changed


def coerce_losslessly(df: pd.DataFrame, schema: pa.DataFrameSchema) -> tuple[pd.DataFrame, list[Failure]]:
    """Coerce each schema column as pandera does; a failure per column where that would change values.

    Returns the table with every column that could be coerced in its schema type (the others as they were),
    so that dataset-level checks see typed values even when some column fails. ``df`` is left as it was; the
    returned table shares the columns that did not change with it (no copy of the table).
    """
    typed = df.copy(deep=False)  # copy-on-write: replacing a column of ``typed`` leaves ``df`` as it was
    failures = []
    for name, column in schema.columns.items():
        if name not in df.columns or column.dtype is None or not (schema.coerce or column.coerce):
            continue
        try:
            coerced = column.dtype.try_coerce(df[name])
        except (pa.errors.ParserError, TypeError, ValueError, OverflowError):
            continue  # pandera reports values that cannot be coerced at all
        changed = changed_values(df[name], coerced)
        if changed.any():
            check = f"{LOSSY} to {column.dtype} (the value would change)"
            failures.append(_rows_failure(name, check, df.loc[changed, name]))
        typed[name] = coerced
    return typed, failures


# --- what the later stages need ----------------------------------------------------------------------------------


def split_sizes(rows: int, test_size: float) -> tuple[int, int]:
    """Train and test rows of a split of ``rows`` (the arithmetic of scikit-learn's train_test_split)."""
    test = math.ceil(test_size * rows)
    return rows - test, test


def _class_failures(target: pd.Series, needs: PipelineNeeds, train_rows: int, test_rows: int) -> list[Failure]:
    counts = target.value_counts(dropna=True)
    name = needs.target
    if len(counts) < 2:
        found = ", ".join(repr(_plain(c)) for c in counts.index) or "none"
        return [Failure(name, f"a {needs.task} target needs at least 2 classes; found {len(counts)} ({found})", 1)]
    if needs.task == "binary" and len(counts) > 2:
        return [Failure(name, f"a binary target (data.task) has 2 classes; found {len(counts)}", 1)]
    rows = train_rows + test_rows
    sizes = f"{rows} rows split {train_rows} train / {test_rows} test (split.test_size {needs.test_size})"
    if needs.task == "binary":  # ROC AUC and the curves need both classes among the test rows too
        needed, where = math.ceil(rows / min(train_rows, test_rows)), "both splits"
    elif len(counts) > test_rows:
        return [Failure(name, f"too few test rows to stratify: {sizes} for {len(counts)} classes", 1)]
    else:  # the model must see every class; the multiclass metrics allow one missing from the test rows
        needed, where = max(2, math.ceil(rows / train_rows)), "the training split"
    rare = counts[counts < needed]
    if rare.empty:
        return []
    listed = ", ".join(f"{_plain(c)!r}: {n} rows" for c, n in rare.items())
    check = (
        f"too few rows of a class to stratify: {sizes} need at least {needed} rows of every class "
        f"for it to be in {where} ({listed})"
    )
    return [Failure(name, check, int(rare.sum()))]


def pipeline_failures(table: pd.DataFrame, needs: PipelineNeeds) -> list[Failure]:
    """Failures of the dataset-level needs of prepare, train, evaluate and reference (columns absent from
    ``table`` are skipped: the schema reports them)."""
    failures: list[Failure] = []
    train_rows, test_rows = split_sizes(len(table), needs.test_size)
    split_ok = min(train_rows, test_rows) >= MIN_SPLIT_ROWS
    if not split_ok:
        check = (
            f"too few rows to split: {len(table)} rows give {train_rows} train / {test_rows} test "
            f"(split.test_size {needs.test_size}); each split needs at least {MIN_SPLIT_ROWS}"
        )
        failures.append(Failure("(table)", check, 1))
    target = table[needs.target] if needs.target in table.columns else None
    if target is not None:
        empty = target.isna()
        if empty.any():
            failures.append(_rows_failure(needs.target, "target is empty (every row needs one)", target[empty]))
        elif needs.classification and split_ok:
            failures += _class_failures(target, needs, train_rows, test_rows)
        elif not needs.classification:
            failures += _infinite(target, needs.target)
    present = [f for f in needs.features if f in table.columns]
    for name in present:
        if table[name].isna().all():
            failures.append(Failure(name, "feature is empty in every row (nothing to learn from)", len(table)))
        else:
            failures += _infinite(table[name], name)
    return failures


def _infinite(values: pd.Series, name: str) -> list[Failure]:
    if not pd.api.types.is_float_dtype(values):
        return []
    infinite = pd.Series(np.isinf(values.to_numpy(dtype=float, na_value=np.nan)), index=values.index)
    if not infinite.any():
        return []
    return [_rows_failure(name, "infinite values (the model cannot use them)", values[infinite])]


def training_split_failures(table: pd.DataFrame, needs: PipelineNeeds) -> list[Failure]:
    """Features whose few values all fall in the test split of the split prepare will make (for a table that
    passed every other check)."""
    _, test_rows = split_sizes(len(table), needs.test_size)
    values = {f: int(table[f].notna().sum()) for f in needs.features if f in table.columns}
    few = [f for f, n in values.items() if n <= test_rows]  # only these can miss the training split
    if not few:
        return []
    train, _ = split(table[[needs.target, *few]], needs.target, needs.test_size, needs.seed, needs.classification)
    return [
        Failure(
            name,
            f"feature is empty in every row of the training split ({values[name]} values, all in the test split; "
            f"split.seed {needs.seed})",
            values[name],
        )
        for name in few
        if train[name].isna().all()
    ]


# --- the whole validation ----------------------------------------------------------------------------------------


def validate_frame(
    df: pd.DataFrame, schema: pa.DataFrameSchema, source: str = "data", needs: PipelineNeeds | None = None
) -> ValidationResult:
    """Validate every check at once (lazy) and collect the failures; the typed table comes back if all pass.

    ``needs`` adds the checks of what the later stages need. A column the schema already fails on gets no
    further failure from those checks (the first problem is the one to fix).
    """
    if df.empty:
        return ValidationResult(source, 0, len(df.columns), [Failure("(table)", "table has no rows", 1)])
    typed, failures = coerce_losslessly(df, schema)
    needed = [] if needs is None else pipeline_failures(typed, needs)
    table = None
    try:  # the columns coerced above are already of their schema type: pandera checks them without a copy
        table = schema.validate(typed, lazy=True, inplace=True)
    except pa.errors.SchemaErrors as error:
        failures = _failures(error) + failures
    if needs is not None:
        failing = {f.column for f in failures} - {"(table)"}
        failures += [f for f in needed if f.column not in failing]
        if not failures and table is not None:
            failures = training_split_failures(table, needs)
    return ValidationResult(source, len(df), len(df.columns), failures, None if failures else table)


def validate_file(path: Path | str, schema: pa.DataFrameSchema, needs: PipelineNeeds | None = None) -> ValidationResult:
    """Read and validate a data file; an unreadable file is a failure, not a crash."""
    try:
        df = read_table(path)
    except DataReadError as error:
        return ValidationResult(str(path), 0, 0, [Failure("(file)", str(error), 1)])
    return validate_frame(df, schema, str(path), needs)


def render_markdown(result: ValidationResult) -> str:
    """A short markdown report: verdict, then one section per failing check with example rows."""
    head = f"**{result.source}**: {result.rows:,} rows, {result.columns} columns"
    if result.ok:
        return f"### Data validation: passed\n\n{head}; every schema check passed.\n"
    lines = [
        "### Data validation: FAILED",
        "",
        f"{head}; {len(result.failures)} failing check(s).",
        "",
        "| column | check | failing rows | examples (row: value) |",
        "|---|---|---:|---|",
    ]
    for f in result.failures:
        shown = ", ".join(f"{e['row']}: {e['value']!r}" for e in f.examples) or "-"
        check = f.check.replace("|", "\\|")
        lines.append(f"| `{f.column}` | {check} | {f.failures:,} | {shown} |")
    return "\n".join(lines) + "\n"


def render_text(result: ValidationResult) -> str:
    """The same report for a terminal."""
    if result.ok:
        return f"data validation passed: {result.source} ({result.rows:,} rows)"
    lines = [f"data validation FAILED: {result.source} ({result.rows:,} rows)"]
    for f in result.failures:
        shown = "; ".join(f"row {e['row']}: {e['value']!r}" for e in f.examples)
        lines.append(f"  column {f.column!r}: {f.check} ({f.failures:,} failing)" + (f" e.g. {shown}" if shown else ""))
    return "\n".join(lines)
