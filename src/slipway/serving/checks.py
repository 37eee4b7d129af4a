"""The fast path of request validation: plainly valid records accepted without pandera, row by row or by column.

Both functions here only ever *accept*: they return the validated batch when every record is a JSON object of
known fields whose values have the column's JSON type and pass the column's checks, and None as soon as anything is
not plainly so (an unknown or missing field, a wrong type, a failed check, a NaN, an integral float in an integer
column...). Then the full validation (``slipway.serving.validation``) decides, and names every reason. So the fast
path may be stricter than pandera, never looser (a property test holds it to that).

- :func:`accept_rows` (a few records): one pass over each record's fields with a compiled per-column predicate;
- :func:`accept_columns` (a batch): each column's values gathered once (``map`` over the records, no Python code per
  row), their types read as a set, numbers converted to one numpy array and checked with vectorised comparisons,
  strings checked once per distinct value;
- :func:`accept_column_lists` (a columnar batch, ``{"columns": {...}}``): the same checks on the lists as sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, overload

import numpy as np

from slipway.data.schema import pattern_matcher

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
REFUSED: Any = object()
"""What a column's acceptor returns for a value the fast path does not accept."""
_ABSENT: Any = object()
_NONE = type(None)
RANGE_CHECKS = {
    "in_range": ("min_value", "max_value"),
    "greater_than_or_equal_to": ("min_value", None),
    "greater_than": ("min_value", None),
    "less_than_or_equal_to": (None, "max_value"),
    "less_than": (None, "max_value"),
}


@dataclass(frozen=True)
class ColumnRule:
    name: str
    kind: str  # "integer", "number", "string" or "any" (the JSON type the column's dtype takes)
    nullable: bool
    required: bool
    unique: bool
    checks: tuple[Callable[[Any], bool], ...] | None  # None: a check the fast path does not know
    bounds: tuple[tuple[Any, Any, bool, bool], ...] = ()  # range checks as (min, max, include_min, include_max)


@dataclass
class ValidatedBatch:
    """Validated records: per-column values (lists, arrays or Series) ready for a backend, and the records."""

    columns: dict[str, Any]
    size: int
    records: Sequence[dict[str, Any]] = field(default_factory=list)
    fast_path: bool = False


class ColumnRecords(Sequence[dict[str, Any]]):
    """The records of a columnar batch, each built when it is read (by the prediction log's writer thread, or by
    the full validation when the fast path did not accept the batch)."""

    def __init__(self, columns: Mapping[str, list[Any]]) -> None:
        self.columns = columns
        self.size = len(next(iter(columns.values()), []))

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[dict[str, Any]]:
        names = list(self.columns)
        return (dict(zip(names, row, strict=True)) for row in zip(*self.columns.values(), strict=True))

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self.size))]
        return {name: values[index] for name, values in self.columns.items()}


def fast_check(name: str, stats: Mapping[str, Any]) -> Callable[[Any], bool] | None:
    """A plain-Python predicate equal to a built-in pandera check, or None for a check it does not know."""
    if name in RANGE_CHECKS:
        lo, hi, inc_lo, inc_hi = range_bounds(name, stats)
        return lambda v: (
            (lo is None or (lo <= v if inc_lo else lo < v)) and (hi is None or (v <= hi if inc_hi else v < hi))
        )
    if name == "isin":
        allowed = frozenset(stats["allowed_values"])
        return lambda v: v in allowed
    if name == "notin":
        forbidden = frozenset(stats["forbidden_values"])
        return lambda v: v not in forbidden
    if name == "str_matches":
        return pattern_matcher(stats["pattern"])  # whole value, ASCII classes: as the table check (load_schema)
    return None


def _within(lo: Any, hi: Any, inc_lo: bool, inc_hi: bool) -> Callable[[Any], bool]:
    if lo is not None and hi is not None:
        if inc_lo and inc_hi:
            return lambda v: lo <= v <= hi
        if inc_lo:
            return lambda v: lo <= v < hi
        return (lambda v: lo < v <= hi) if inc_hi else (lambda v: lo < v < hi)
    if lo is not None:
        return (lambda v: lo <= v) if inc_lo else (lambda v: lo < v)
    return (lambda v: v <= hi) if inc_hi else (lambda v: v < hi)


def range_bounds(name: str, stats: Mapping[str, Any]) -> tuple[Any, Any, bool, bool]:
    """A range check (one of ``RANGE_CHECKS``) as ``(min or None, max or None, include_min, include_max)``."""
    lo_key, hi_key = RANGE_CHECKS[name]
    inclusive = name in {"in_range", "greater_than_or_equal_to", "less_than_or_equal_to"}
    lo = stats[lo_key] if lo_key else None
    hi = stats[hi_key] if hi_key else None
    if name == "in_range":
        return lo, hi, stats.get("include_min", True), stats.get("include_max", True)
    return lo, hi, inclusive, inclusive


def acceptor(rule: ColumnRule) -> Callable[[Any], Any]:
    """The column's value as the table will hold it (an integral float as an int, NaN as None), or REFUSED."""
    checks, nullable, kind = rule.checks or (), rule.nullable, rule.kind

    def accept(value: Any) -> Any:
        kind_of = type(value)
        if value is None or (kind_of is float and value != value):
            return None if nullable else REFUSED
        if kind == "integer":
            if kind_of is float and value.is_integer() and INT64_MIN < value <= INT64_MAX:
                value, kind_of = int(value), int
            if kind_of is not int or not INT64_MIN <= value <= INT64_MAX:
                return REFUSED
        elif kind == "number":
            if not (kind_of is float and value - value == 0.0) and not (
                kind_of is int and INT64_MIN <= value <= INT64_MAX
            ):
                return REFUSED  # (value - value is NaN for infinities)
        elif kind_of is not str or not is_unicode(value):
            return REFUSED
        try:
            for check in checks:
                if not check(value):
                    return REFUSED
        except TypeError:  # a check that does not apply to this type: the full validation says why
            return REFUSED
        return value

    return accept


def is_unicode(text: str) -> bool:
    """False for text holding a lone surrogate (JSON's ``"\\ud800"``): not a character, and not encodable."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def accept_rows(
    acceptors: Mapping[str, Callable[[Any], Any]],
    rules: Mapping[str, ColumnRule],
    required: frozenset[str],
    records: Sequence[Any],
) -> ValidatedBatch | None:
    """A few records, one field at a time (see the module docstring); None unless all are plainly valid."""
    clean: list[dict[str, Any]] = []
    for record in records:
        if type(record) is not dict or not required <= record.keys():
            return None
        row = record
        for key, value in record.items():
            accept = acceptors.get(key)
            if accept is None:
                return None
            normal = accept(value)
            if normal is not value:
                if normal is REFUSED:
                    return None
                row = dict(row) if row is record else row
                row[key] = normal
        clean.append(row)
    if len(clean) == 1:  # (a null was accepted only where the column is nullable)
        return ValidatedBatch({name: [row[name]] for name in rules if name in row}, 1, clean, True)
    present = set().union(*clean)
    columns: dict[str, list[Any]] = {}
    for name, rule in rules.items():
        if name in present:
            values = columns[name] = [row.get(name) for row in clean]
            if None in values and (not rule.nullable or rule.unique):
                return None  # an optional column some records leave out, or a unique one with nulls
            if rule.unique and not _distinct(values):
                return None
    return ValidatedBatch(columns, len(clean), clean, True)


def _distinct(values: Sequence[Any]) -> bool:
    return len(set(values)) == len(values)


def accept_columns(rules: Mapping[str, ColumnRule], records: Sequence[Any]) -> ValidatedBatch | None:
    """A batch of records, one column at a time (see the module docstring); None unless all are plainly valid."""
    size = len(records)
    try:
        checked = _checked_columns(rules, size, lambda name: _gathered(records, name))
        if checked is None or sum(map(len, records)) != checked[1]:
            return None  # not plainly valid, or a field outside the schema
    except TypeError:  # a record that is not an object, or a value that cannot be hashed
        return None
    return ValidatedBatch(checked[0], size, list(records), True)


def accept_column_lists(rules: Mapping[str, ColumnRule], columns: Mapping[str, list[Any]]) -> ValidatedBatch | None:
    """A columnar batch (every list one column, all of one length), checked as ``accept_columns`` checks records."""
    if not columns.keys() <= rules.keys():
        return None
    records = ColumnRecords(columns)
    size = len(records)
    try:
        checked = _checked_columns(rules, size, lambda name: (columns[name], 0) if name in columns else ([], size))
    except TypeError:  # a value that cannot be hashed
        return None
    return None if checked is None else ValidatedBatch(checked[0], size, records, True)


def _checked_columns(
    rules: Mapping[str, ColumnRule], size: int, gathered: Callable[[str], tuple[list[Any], int]]
) -> tuple[dict[str, Any], int] | None:
    """Each column as a backend takes it and how many fields there were, or None unless all are plainly valid;
    ``gathered(name)`` gives a column's values and how many records lack it."""
    columns: dict[str, Any] = {}
    fields = 0
    for name, rule in rules.items():
        values, absent = gathered(name)
        if absent and (rule.required or absent == size):
            if rule.required:
                return None
            continue  # an optional column no record has: left out, as the table leaves it out
        column = _column(rule, values)
        if column is None:
            return None
        columns[name] = column
        fields += size - absent
    return columns, fields


def _gathered(records: Sequence[dict[str, Any]], name: str) -> tuple[list[Any], int]:
    """Every record's value of ``name`` (None where a record has none) and how many records have none."""
    try:
        return [record[name] for record in records], 0  # (the cheapest pass there is: a column all records have)
    except KeyError:
        values = list(map(dict.get, records, repeat(name, len(records)), repeat(_ABSENT, len(records))))
        absent = values.count(_ABSENT)
        return [None if v is _ABSENT else v for v in values], absent


def _column(rule: ColumnRule, values: list[Any]) -> Any:
    """The column as a backend takes it (numbers as one numpy array, text as a list), or None if not plainly valid."""
    if rule.kind == "string":  # the distinct values first: few, for a categorical column
        distinct = set(values)
        kinds = set(map(type, distinct))
    else:
        kinds = set(map(type, values))
    nulls = _NONE in kinds
    if nulls and not rule.nullable:
        return None
    known = kinds - {_NONE}
    if rule.kind == "integer" and known <= {int} and not nulls:
        try:
            array = np.array(values, dtype=np.int64)
        except OverflowError:
            return None
        return array if _numbers_pass(rule, array) else None
    if rule.kind == "number" and known <= {int, float}:
        try:
            array = np.array(values, dtype=np.float64)
        except OverflowError:
            return None
        missing = np.isnan(array)
        if int(missing.sum()) != (values.count(None) if nulls else 0) or np.isinf(array).any():
            return None  # a NaN or an infinity sent as a number (read by the standard parser)
        return array if _numbers_pass(rule, array[~missing] if nulls else array) else None
    if rule.kind == "string" and known <= {str}:
        distinct.discard(None)
        if not is_unicode("".join(distinct)) or not _passes(rule, distinct):
            return None
        return values if not rule.unique or len(distinct) == _non_null(values, nulls) else None
    return None


def _non_null(values: list[Any], nulls: bool) -> int:
    """How many values are not None."""
    return len(values) - values.count(None) if nulls else len(values)


def _numbers_pass(rule: ColumnRule, array: np.ndarray) -> bool:
    """Range checks compared on the whole array; any other check once per distinct value."""
    for lo, hi, inc_lo, inc_hi in rule.bounds:
        if lo is not None and not bool(np.all(array >= lo) if inc_lo else np.all(array > lo)):
            return False
        if hi is not None and not bool(np.all(array <= hi) if inc_hi else np.all(array < hi)):
            return False
    if len(rule.checks or ()) > len(rule.bounds):
        distinct = np.unique(array)
        if not _passes(rule, set(distinct.tolist())):
            return False
    return not rule.unique or len(np.unique(array)) == len(array)


def _passes(rule: ColumnRule, distinct: set[Any]) -> bool:
    try:
        return all(check(value) for check in rule.checks or () for value in distinct)
    except TypeError:  # a check that does not apply to this type: the full validation says why
        return False
