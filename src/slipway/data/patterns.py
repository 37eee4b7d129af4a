"""Whole-value pattern matching with ASCII character classes, for one value (a request) or a whole column.

A pattern matches a value when it matches from its first to its last character, with ``\\d``, ``\\w``, ``\\s``,
``\\b`` meaning ASCII characters only (Python's ``re.fullmatch`` with ``re.ASCII``): see ``slipway.data.schema``.

A column of Arrow strings is matched by Arrow's RE2 engine (one pass in C++) when the pattern can be written in RE2
with the same meaning: :func:`re2_equivalent` rewrites Python's own parse of the pattern, spelling every character
class out in ASCII (``\\d`` becomes ``[0-9]``), and gives up on anything where the two engines could disagree
(lookarounds, back-references, possessive or atomic groups, inline flags, anchors inside the pattern, repeat counts
over RE2's limit). Every other column, and every pattern it gives up on, is matched by Python one distinct value at
a time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from re import _constants as sre  # the parse tree of Python's own regular-expression parser
from re import _parser as sre_parser
from typing import Any

import numpy as np
import pandas as pd

RE2_MAX_REPEAT = 1000
"""RE2 refuses counted repetitions above this."""
BATCH = 1 << 16
"""Values turned into Python strings at a time when Python matches a column (bounds the memory it takes)."""

_CLASSES = {
    sre.CATEGORY_DIGIT: "0-9",
    sre.CATEGORY_WORD: "0-9A-Za-z_",
    sre.CATEGORY_SPACE: r"\t\n\x{b}\f\r ",  # Python's ASCII whitespace: RE2's \s lacks the vertical tab
}
_NEGATED = {
    sre.CATEGORY_NOT_DIGIT: sre.CATEGORY_DIGIT,
    sre.CATEGORY_NOT_WORD: sre.CATEGORY_WORD,
    sre.CATEGORY_NOT_SPACE: sre.CATEGORY_SPACE,
}
_START = {sre.AT_BEGINNING, sre.AT_BEGINNING_STRING}
_END = {sre.AT_END, sre.AT_END_STRING}


class _NotEquivalent(Exception):
    """The pattern uses something RE2 would read differently."""


def pattern_matcher(pattern: str) -> Callable[[Any], bool]:
    """True for text that matches ``pattern`` from its first to its last character, with ASCII character classes."""
    compiled = re.compile(pattern, re.ASCII)
    return lambda value: isinstance(value, str) and compiled.fullmatch(value) is not None


def _char(code: int) -> str:
    return f"\\x{{{code:x}}}"


def _class(items: list[tuple[Any, Any]]) -> str:
    negate = bool(items) and items[0][0] is sre.NEGATE
    body = items[1:] if negate else items
    if len(body) == 1 and body[0][0] is sre.CATEGORY and body[0][1] in _NEGATED and not negate:
        return f"[^{_CLASSES[_NEGATED[body[0][1]]]}]"  # \D, \W, \S
    parts = []
    for op, value in body:
        if op is sre.LITERAL:
            parts.append(_char(value))
        elif op is sre.RANGE:
            parts.append(f"{_char(value[0])}-{_char(value[1])}")
        elif op is sre.CATEGORY and value in _CLASSES:
            parts.append(_CLASSES[value])
        else:
            raise _NotEquivalent(op)
    return f"[{'^' if negate else ''}{''.join(parts)}]"


def _repeat(low: int, high: int, items: list[tuple[Any, Any]]) -> str:
    if low > RE2_MAX_REPEAT or (high is not sre.MAXREPEAT and high > RE2_MAX_REPEAT):
        raise _NotEquivalent("repeat count")
    upper = "" if high is sre.MAXREPEAT else str(high)
    return f"(?:{_sequence(items)}){{{low},{upper}}}"  # greedy or lazy: the same values match as a whole


def _node(op: Any, value: Any) -> str:
    if op is sre.LITERAL:
        return _char(value)
    if op is sre.NOT_LITERAL:
        return f"[^{_char(value)}]"
    if op is sre.ANY:
        return r"[^\n]"
    if op is sre.IN:
        return _class(value)
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
        return _repeat(*value)
    if op is sre.SUBPATTERN and not value[1] and not value[2]:  # a group without inline flags
        return f"(?:{_sequence(value[3])})"
    if op is sre.BRANCH:
        return "(?:" + "|".join(_sequence(items) for items in value[1]) + ")"
    raise _NotEquivalent(op)


def _sequence(items: Any) -> str:
    return "".join(_node(op, value) for op, value in items)


def re2_equivalent(pattern: str) -> str | None:
    """An RE2 pattern that matches a whole value exactly when ``pattern`` does (with ASCII classes), or None when
    there is no such rewrite that is certain."""
    try:
        parsed = sre_parser.parse(pattern, re.ASCII)
        if parsed.state.flags & ~(re.ASCII | re.VERBOSE):
            return None  # (?i), (?m), (?s), (?u) ...
        items = list(parsed)
        if items and items[0][0] is sre.AT and items[0][1] in _START:
            items = items[1:]  # a leading ^ or \A always holds at the start of a whole-value match
        if items and items[-1][0] is sre.AT and items[-1][1] in _END:
            items = items[:-1]  # and a trailing $ or \Z at its end
        return f"^(?:{_sequence(items)})$"
    except (_NotEquivalent, re.error, TypeError, ValueError):
        return None


def _arrow_matches(values: pd.Series, pattern: str) -> np.ndarray | None:
    """RE2 over an Arrow-backed text column; None when the column or the pattern does not allow it."""
    if not (isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"):
        return None
    rewritten = re2_equivalent(pattern)
    if rewritten is None:
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        found = pc.match_substring_regex(pa.array(values.array), pattern=rewritten)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None  # RE2 refused the rewrite (e.g. a program too big): Python decides
    return pc.fill_null(found, False).to_numpy(zero_copy_only=False)


def _python_matches(values: pd.Series, pattern: str) -> np.ndarray:
    """:func:`pattern_matcher` on each distinct value once."""
    matches = pattern_matcher(pattern)
    codes, uniques = pd.factorize(values)
    hits = np.zeros(len(uniques) + 1, dtype=bool)  # the last entry answers for a missing value (code -1): False
    for start in range(0, len(uniques), BATCH):
        batch = uniques[start : start + BATCH].to_numpy(dtype=object)
        hits[start : start + len(batch)] = np.fromiter(map(matches, batch), dtype=bool, count=len(batch))
    return hits[codes]


def whole_matches(values: pd.Series, pattern: str) -> pd.Series:
    """:func:`pattern_matcher` applied to every value of a column: True where it matches."""
    found = _arrow_matches(values, pattern)
    return pd.Series(_python_matches(values, pattern) if found is None else found, index=values.index)
