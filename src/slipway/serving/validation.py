"""Request validation with the model-input schema (pandera), and a fast path compiled from that same schema.

A request's records go through three layers, all derived from one ``pandera.DataFrameSchema``:

1. shape: each record is a JSON object with the schema's columns (unknown fields and missing required fields are
   reported per record);
2. JSON types from the column dtypes: integer columns take integral numbers, float columns numbers, string columns
   strings, ``null`` only where the column is nullable (so ``3.7`` for an integer or ``"12"`` for a number is
   rejected rather than silently coerced);
3. the schema's checks: pandera validates the table (ranges, allowed values, patterns, uniqueness, any custom or
   dataframe-level check).

When the schema's checks are all of the well-known kinds (``in_range``, ``isin``, ``str_matches``, ...), the three
layers are first evaluated directly on the values (``slipway.serving.checks``: row by row for a few records, column
by column for a batch or a columnar body), because pandera costs milliseconds per call; only a request that passes
is answered this way, anything else goes through the layers above for the authoritative verdict and message. A
property test asserts that the fast path never accepts what pandera rejects.

The JSON body is read by orjson, which reads an integer beyond 64 bits as a float, so an integer column takes a
float only strictly inside the 64-bit range (``-9223372036854775809`` cannot pass as ``-2**63``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaError, SchemaErrors

from slipway.serving.checks import (
    INT64_MAX,
    INT64_MIN,
    RANGE_CHECKS,
    ColumnRecords,
    ColumnRule,
    ValidatedBatch,
    accept_column_lists,
    accept_columns,
    accept_rows,
    acceptor,
    fast_check,
    is_unicode,
    range_bounds,
)
from slipway.serving.echo import echo, echo_value

__all__ = ["FieldError", "RecordValidator", "RequestInvalid", "ValidatedBatch", "records_json_schema"]

ROW_PATH_MAX_RECORDS = 32
"""Requests with at most this many records are checked record by record; bigger ones column by column."""
MAX_ERRORS = 50
REASON_LIMIT = 500
UNKNOWN_FIELD = "unknown field (not in the model's input schema)"
NOT_UNICODE = "must be valid Unicode text (it holds a lone surrogate, an unpaired \\ud800-\\udfff escape)"
_JSON_TYPE = {"integer": "an integer", "number": "a number", "string": "a string"}


@dataclass(frozen=True)
class FieldError:
    """One reason a request is refused: which record and field, why, and the offending value."""

    field: str
    reason: str
    record: int | None = None
    value: Any = None

    def as_dict(self) -> dict[str, Any]:
        """The error as JSON, with the client's field name and value bounded and escaped (see ``echo``)."""
        return {
            "field": echo(self.field),
            "record": self.record,
            "reason": echo(self.reason, REASON_LIMIT),
            "value": echo_value(self.value),
        }


class RequestInvalid(ValueError):
    """The request does not match the model-input schema; carries every reason found."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        self.errors = list(errors)[:MAX_ERRORS]
        super().__init__("; ".join(f"{echo(e.field)}: {echo(e.reason, REASON_LIMIT)}" for e in self.errors))


def _kind(column: pa.Column) -> str:
    dtype = getattr(column.dtype, "type", None)
    if dtype is None:
        return "any"
    if pd.api.types.is_bool_dtype(dtype):
        return "any"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer"
    if pd.api.types.is_float_dtype(dtype):
        return "number"
    if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
        return "string"
    return "any"


class RecordValidator:
    """Validates JSON records against a pandera model-input schema (see the module docstring)."""

    def __init__(self, schema: pa.DataFrameSchema) -> None:
        self.schema = schema
        self.rules: dict[str, ColumnRule] = {name: _rule(name, column) for name, column in schema.columns.items()}
        self.fast_path = (
            not schema.checks
            and not schema.unique
            and not any(c.regex for c in schema.columns.values())
            and all(r.checks is not None and r.kind != "any" for r in self.rules.values())
        )
        self.required = [r.name for r in self.rules.values() if r.required]
        self._required = frozenset(self.required)
        self._acceptors = {name: acceptor(rule) for name, rule in self.rules.items()}

    # -- layer 1 and 2: shape and JSON types -------------------------------------------------------------------
    def _shape_and_types(self, records: Sequence[Any]) -> list[FieldError]:
        errors: list[FieldError] = []
        for i, record in enumerate(records):
            if not isinstance(record, dict):
                errors.append(FieldError("(record)", "each record must be a JSON object of field: value", i, record))
                continue
            errors += [FieldError(k, UNKNOWN_FIELD, i) for k in record if k not in self.rules]
            errors += [FieldError(k, "missing required field", i) for k in self.required if k not in record]
            for key, value in record.items():
                rule = self.rules.get(key)
                if rule is None:
                    continue
                problem = _type_problem(rule, value)
                if problem:
                    errors.append(FieldError(key, problem, i, value))
            if len(errors) >= MAX_ERRORS:
                break
        return errors

    def frame(self, records: Sequence[dict[str, Any]]) -> pd.DataFrame:
        """The records as a table with the schema's columns, in schema order (absent optional columns left out)."""
        names = [n for n in self.rules if any(n in r for r in records)]
        data: dict[str, Any] = {}
        for name in names:
            values = [r.get(name) for r in records]
            kind = self.rules[name].kind
            if kind == "number":
                data[name] = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
            elif kind == "integer" and None not in values:
                data[name] = np.array(values, dtype=np.int64)
            else:
                data[name] = pd.Series(values, dtype="object")
        return pd.DataFrame(data, index=pd.RangeIndex(len(records)))

    def _pandera(self, records: Sequence[dict[str, Any]]) -> pd.DataFrame:
        try:
            return self.schema.validate(self.frame(records), lazy=True)
        except SchemaErrors as failure:
            raise RequestInvalid(_pandera_errors(failure.failure_cases)) from None
        except SchemaError as failure:
            raise RequestInvalid([FieldError(str(failure.schema.name or "(request)"), str(failure))]) from None

    def _normal(self, key: str, value: Any) -> Any:
        """NaN as null; an integral float in an integer column as an int (what pandera's coercion gives)."""
        if isinstance(value, float):
            if math.isnan(value):
                return None
            if self.rules[key].kind == "integer":
                return int(value)
        return value

    def validate(self, records: Sequence[Any]) -> ValidatedBatch:
        """Validated columns for the records, or RequestInvalid naming each field and reason."""
        if not records:
            raise RequestInvalid([FieldError("records", "must hold at least one record")])
        if self.fast_path:
            if len(records) <= ROW_PATH_MAX_RECORDS:
                accepted = accept_rows(self._acceptors, self.rules, self._required, records)
            else:
                accepted = accept_columns(self.rules, records)
            if accepted is not None:
                return accepted
        errors = self._shape_and_types(records)
        if errors:
            raise RequestInvalid(errors)
        clean = [{k: self._normal(k, v) for k, v in r.items()} for r in records]
        table = self._pandera(clean)
        return ValidatedBatch({n: table[n] for n in table.columns}, len(table), clean, False)

    def validate_columns(self, columns: Mapping[str, list[Any]]) -> ValidatedBatch:
        """Validated columns of a columnar batch (lists of one length), or RequestInvalid naming each record's field
        and reason, as for the same records sent one by one."""
        if self.fast_path:
            accepted = accept_column_lists(self.rules, columns)
            if accepted is not None:
                return accepted
        return self.validate(list(ColumnRecords(columns)))


def _rule(name: str, column: pa.Column) -> ColumnRule:
    """What the fast path needs of a column: JSON type, nullability, checks as predicates, ranges as bounds."""
    checks = [fast_check(check.name, check.statistics or {}) for check in column.checks]
    bounds = tuple(range_bounds(c.name, c.statistics or {}) for c in column.checks if c.name in RANGE_CHECKS)
    known = None not in checks
    return ColumnRule(
        name, _kind(column), bool(column.nullable), bool(column.required), bool(column.unique),
        tuple(c for c in checks if c is not None) if known else None, bounds,
    )  # fmt: skip


def _type_problem(rule: ColumnRule, value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None if rule.nullable else "must not be null"
    if isinstance(value, str) and not is_unicode(value):
        return NOT_UNICODE
    if rule.kind == "any":
        return None if isinstance(value, bool | int | float | str) else "must be a string, number or boolean"
    if rule.kind == "string":
        ok = isinstance(value, str)
    elif isinstance(value, bool) or not isinstance(value, int | float):
        ok = False
    elif isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    elif rule.kind == "integer":
        ok = (
            INT64_MIN <= value <= INT64_MAX
            if isinstance(value, int)
            else value.is_integer() and INT64_MIN < value <= INT64_MAX
        )
        if not ok and isinstance(value, int | float):
            return "must be an integer within the 64-bit range"
    else:
        ok = True
    return None if ok else f"must be {_JSON_TYPE[rule.kind]}, got {type(value).__name__}"


_CHECK_REASONS = {
    "column_in_schema": UNKNOWN_FIELD,
    "column_in_dataframe": "missing required field",
    "not_nullable": "must not be null",
    "field_uniqueness": "must be unique within the request",
}


def _pandera_errors(cases: pd.DataFrame) -> list[FieldError]:
    """pandera's failure cases as field errors (column-level failures name the column in ``failure_case``)."""
    errors: list[FieldError] = []
    seen: set[tuple[Any, Any]] = set()
    for case in cases.to_dict("records"):
        check = str(case.get("check"))
        index = case.get("index")
        record = int(index) if isinstance(index, int | float | np.integer) and not pd.isna(index) else None
        if case.get("schema_context") == "DataFrameSchema" and check in {"column_in_schema", "column_in_dataframe"}:
            name, value = str(case.get("failure_case")), None
        else:
            name, value = str(case.get("column")), case.get("failure_case")
        if (name, record) in seen:
            continue  # pandera repeats a column's failure for each later check; the first reason is the cause
        seen.add((name, record))
        reason = _CHECK_REASONS.get(check)
        if reason is None and check.startswith("coerce_dtype("):
            reason = f"cannot be read as {check[len('coerce_dtype(') : -1]}"
        elif reason is None:
            reason = f"fails check {check}"
        errors.append(FieldError(name, reason, record, value))
    return errors or [FieldError("(request)", "does not match the model's input schema")]


def records_json_schema(schema: pa.DataFrameSchema) -> dict[str, Any]:
    """JSON Schema of one record, from the pandera schema (for the OpenAPI document)."""
    properties: dict[str, Any] = {}
    for name, column in schema.columns.items():
        kind = _kind(column)
        prop: dict[str, Any] = {} if kind == "any" else {"type": kind}
        for check in column.checks:
            stats = check.statistics or {}
            if check.name == "in_range":
                prop["minimum" if stats.get("include_min", True) else "exclusiveMinimum"] = stats["min_value"]
                prop["maximum" if stats.get("include_max", True) else "exclusiveMaximum"] = stats["max_value"]
            elif check.name == "isin":
                prop["enum"] = list(stats["allowed_values"])
            elif check.name == "str_matches":  # the whole value (JSON Schema patterns search, and $ is the end)
                prop["pattern"] = f"^(?:{stats['pattern']})$"
        if column.nullable and kind != "any":
            prop["type"] = [kind, "null"]
            if "enum" in prop:
                prop["enum"] = [*prop["enum"], None]
        if column.description:
            prop["description"] = column.description
        properties[name] = prop
    required = [n for n, c in schema.columns.items() if c.required]
    record: dict[str, Any] = {"type": "object", "properties": properties, "required": required}
    record["additionalProperties"] = False
    example = {name: _example_value(properties[name]) for name in required}
    if all(value is not None or name not in required for name, value in example.items()):
        record["example"] = example
    return record


def _example_value(prop: dict[str, Any]) -> Any:
    """A value the property accepts (used as the OpenAPI example and by the smoke test), or None."""
    if prop.get("enum"):
        return next((v for v in prop["enum"] if v is not None), None)
    kinds = prop.get("type")
    kind = kinds[0] if isinstance(kinds, list) else kinds
    if kind in {"integer", "number"}:
        lo = prop.get("minimum", prop.get("exclusiveMinimum", 0))
        hi = prop.get("maximum", prop.get("exclusiveMaximum", lo + 2))
        middle = (lo + hi) / 2
        return int(middle) if kind == "integer" else float(middle)
    if kind == "string" and "pattern" not in prop:
        return "example"
    return None
