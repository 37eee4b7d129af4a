"""Run the raw-data schema and turn failures into a report a person can act on."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from slipway.data import DataReadError, read_table

MAX_EXAMPLES = 5


@dataclass(frozen=True)
class Failure:
    """One failing check: where, what, how often, and a few examples."""

    column: str
    check: str
    failures: int
    examples: list[dict[str, object]] = field(default_factory=list)


@dataclass(frozen=True)
class ValidationResult:
    """The outcome of validating one table."""

    source: str
    rows: int
    columns: int
    failures: list[Failure]

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_json(self) -> str:
        return json.dumps({"ok": self.ok, **asdict(self)}, indent=2, default=str)


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


def validate_frame(df: pd.DataFrame, schema: pa.DataFrameSchema, source: str = "data") -> ValidationResult:
    """Validate every check at once (lazy) and collect the failures."""
    if df.empty:
        return ValidationResult(source, 0, len(df.columns), [Failure("(table)", "table has no rows", 1)])
    try:
        schema.validate(df, lazy=True)
    except pa.errors.SchemaErrors as error:
        return ValidationResult(source, len(df), len(df.columns), _failures(error))
    return ValidationResult(source, len(df), len(df.columns), [])


def validate_file(path: Path | str, schema: pa.DataFrameSchema) -> ValidationResult:
    """Read and validate a data file; an unreadable file is a failure, not a crash."""
    try:
        df = read_table(path)
    except DataReadError as error:
        return ValidationResult(str(path), 0, 0, [Failure("(file)", str(error), 1)])
    return validate_frame(df, schema, str(path))


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
