"""Request validation with the model-input schema (pandera), and a fast path compiled from that same schema.

A request's records go through three layers, all derived from one ``pandera.DataFrameSchema``:

1. shape: each record is a JSON object with the schema's columns (unknown fields and missing required fields are
   reported per record);
2. JSON types from the column dtypes: integer columns take integral numbers, float columns numbers, string columns
   strings, ``null`` only where the column is nullable (so ``3.7`` for an integer or ``"12"`` for a number is
   rejected rather than silently coerced);
3. the schema's checks: pandera validates the table (ranges, allowed values, patterns, uniqueness, any custom or
   dataframe-level check). For small requests whose checks are all of the well-known kinds (``in_range``,
   ``isin``, ``str_matches``, ...) the checks are evaluated directly on the values instead, because pandera costs
   milliseconds per call; only a request that passes is answered this way, anything failing goes to pandera for
   the authoritative verdict and message. A property test asserts that the fast path never accepts what pandera
   rejects.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaError, SchemaErrors

from slipway.data.schema import pattern_matcher
from slipway.serving.echo import echo, echo_value

FAST_PATH_MAX_RECORDS = 32
MAX_ERRORS = 50
REASON_LIMIT = 500
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
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


def _fast_check(name: str, stats: Mapping[str, Any]) -> Callable[[Any], bool] | None:
    """A plain-Python predicate equal to a built-in pandera check, or None for a check it does not know."""
    if name == "in_range":
        lo, hi = stats["min_value"], stats["max_value"]
        inc_lo, inc_hi = stats.get("include_min", True), stats.get("include_max", True)
        return lambda v: (lo <= v if inc_lo else lo < v) and (v <= hi if inc_hi else v < hi)
    if name == "greater_than_or_equal_to":
        return lambda v, m=stats["min_value"]: v >= m
    if name == "greater_than":
        return lambda v, m=stats["min_value"]: v > m
    if name == "less_than_or_equal_to":
        return lambda v, m=stats["max_value"]: v <= m
    if name == "less_than":
        return lambda v, m=stats["max_value"]: v < m
    if name == "isin":
        allowed = frozenset(stats["allowed_values"])
        return lambda v: v in allowed
    if name == "notin":
        forbidden = frozenset(stats["forbidden_values"])
        return lambda v: v not in forbidden
    if name == "str_matches":
        return pattern_matcher(stats["pattern"])  # whole value, ASCII classes: as the table check (load_schema)
    return None


@dataclass(frozen=True)
class ColumnRule:
    name: str
    kind: str
    nullable: bool
    required: bool
    unique: bool
    checks: tuple[Callable[[Any], bool], ...] | None  # None: a check the fast path does not know


@dataclass
class ValidatedBatch:
    """Validated records: per-column values (lists or Series) ready for a backend, and the records themselves."""

    columns: dict[str, Any]
    size: int
    records: list[dict[str, Any]] = field(default_factory=list)
    fast_path: bool = False


class RecordValidator:
    """Validates JSON records against a pandera model-input schema (see the module docstring)."""

    def __init__(self, schema: pa.DataFrameSchema) -> None:
        self.schema = schema
        self.rules: dict[str, ColumnRule] = {}
        for name, column in schema.columns.items():
            checks: list[Callable[[Any], bool]] = []
            known = True
            for check in column.checks:
                predicate = _fast_check(check.name, check.statistics or {})
                if predicate is None:
                    known = False
                else:
                    checks.append(predicate)
            self.rules[name] = ColumnRule(
                name, _kind(column), bool(column.nullable), bool(column.required), bool(column.unique),
                tuple(checks) if known else None,
            )  # fmt: skip
        self.fast_path = (
            not schema.checks
            and not schema.unique
            and not any(c.regex for c in schema.columns.values())
            and all(r.checks is not None and r.kind != "any" for r in self.rules.values())
        )
        self.required = [r.name for r in self.rules.values() if r.required]

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

    # -- layer 3: checks ------------------------------------------------------------------------------------------
    def _fast_checks_pass(self, records: Sequence[dict[str, Any]]) -> bool:
        for rule in self.rules.values():
            seen: set[Any] = set()
            for record in records:
                value = record.get(rule.name)
                if value is None or (isinstance(value, float) and math.isnan(value)):
                    continue
                if not all(check(value) for check in rule.checks or ()):
                    return False
                if rule.unique:
                    if value in seen:
                        return False
                    seen.add(value)
        return True

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
        errors = self._shape_and_types(records)
        if errors:
            raise RequestInvalid(errors)
        clean = [{k: self._normal(k, v) for k, v in r.items()} for r in records]
        if self.fast_path and len(clean) <= FAST_PATH_MAX_RECORDS and self._fast_checks_pass(clean):
            names = [n for n in self.rules if any(n in r for r in clean)]
            return ValidatedBatch({n: [r.get(n) for r in clean] for n in names}, len(clean), clean, True)
        table = self._pandera(clean)
        return ValidatedBatch({n: table[n] for n in table.columns}, len(table), clean, False)


def _is_unicode(text: str) -> bool:
    """False for text holding a lone surrogate (JSON's ``"\\ud800"``): not a character, and not encodable."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _type_problem(rule: ColumnRule, value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None if rule.nullable else "must not be null"
    if isinstance(value, str) and not _is_unicode(value):
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
        ok = (isinstance(value, int) or value.is_integer()) and INT64_MIN <= value <= INT64_MAX
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
