"""A pattern matches a whole column exactly as it matches each value: RE2 over Arrow strings when the pattern can be
rewritten with the same meaning, Python otherwise."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.budgets import examples
from support.demo import DEMO_SCHEMA

from slipway.data.patterns import pattern_matcher, re2_equivalent, whole_matches
from slipway.data.schema import load_schema

ARABIC_INDIC_ONE = "\u0661"
CHARACTERS = ["a", "b", "C", "_", "0", "1", "9", " ", "\n", "\t", "\x0b", "\x0c", "\r", "-", ".", "é", ARABIC_INDIC_ONE]
PIECES = [
    "a", "b", "C", r"\d", r"\w", r"\s", r"\D", r"\W", r"\S", ".", "[a-c]", r"[^a\d]", r"[\s_]", r"[^\w]", "é",
    r"\.", "-", r"\n", "x",
]  # fmt: skip
QUANTIFIERS = ["", "*", "+", "?", "{2}", "{1,3}", "{2,}", "*?", "+?", "??", "{1,2}?"]
ANCHORS_START = ["", "^", r"\A"]
ANCHORS_END = ["", "$", r"\Z"]


@st.composite
def patterns(draw: st.DrawFn) -> str:
    def piece() -> str:
        if draw(st.integers(0, 6)) == 0:
            inner = "|".join(draw(st.lists(st.sampled_from(PIECES), min_size=1, max_size=3)))
            return f"({inner})" + draw(st.sampled_from(QUANTIFIERS))
        return draw(st.sampled_from(PIECES)) + draw(st.sampled_from(QUANTIFIERS))

    body = "".join(piece() for _ in range(draw(st.integers(0, 4))))
    return draw(st.sampled_from(ANCHORS_START)) + body + draw(st.sampled_from(ANCHORS_END))


def _column(values: Sequence[str | None]) -> pd.Series:
    return pd.Series(values, dtype="string[pyarrow]")


def _expected(values: Sequence[str | None], pattern: str) -> list[bool]:
    matches = pattern_matcher(pattern)
    return [matches(value) for value in values]


@settings(max_examples=examples(300), deadline=None)
@given(pattern=patterns(), values=st.lists(st.text(alphabet=st.sampled_from(CHARACTERS), max_size=6), max_size=12))
def test_a_column_matches_exactly_as_each_value_does(pattern: str, values: list[str]) -> None:
    assert whole_matches(_column(values), pattern).tolist() == _expected(values, pattern)


@pytest.mark.parametrize(
    "pattern",
    [
        r"^C\d{8}$",  # the demo schema's id: rewritten for RE2
        r"a$\n",  # $ before a final newline: Python only
        r"(?i)abc",  # an inline flag
        r"(a)\1",  # a back-reference
        r"a(?=b)b",  # a lookahead
        r"a*+a",  # a possessive repeat
        r"\bab",  # a word boundary
        r"a{1001}",  # beyond RE2's repeat limit
    ],
)
def test_examples_where_the_engines_could_disagree(pattern: str) -> None:
    values = ["C12345678", "C12345678\n", f"C1234567{ARABIC_INDIC_ONE}", "a\n", "ABC", "aa", "ab", "a" * 1001, None]
    assert whole_matches(_column(values), pattern).tolist() == _expected(values, pattern)


def test_what_is_rewritten_for_re2_and_what_is_left_to_python() -> None:
    assert re2_equivalent(r"^C\d{8}$") == r"^(?:\x{43}(?:[0-9]){8,8})$"
    assert re2_equivalent(r"\s") == r"^(?:[\t\n\x{b}\f\r ])$"  # Python's ASCII whitespace, vertical tab included
    for pattern in (r"a$\n", r"(?i)a", r"(?m)^a$", r"(a)\1", r"a(?=b)", r"a*+", r"(?>a)", r"\ba", "a{1001}", "("):
        assert re2_equivalent(pattern) is None, pattern


def test_other_columns_are_matched_by_python_one_distinct_value_at_a_time() -> None:
    values = pd.Series(["C12345678", 12345678, None, "C12345678", "C1234567\u0968", True])  # object: mixed values
    assert whole_matches(values, r"^C\d{8}$").tolist() == [True, False, False, True, False, False]


def test_the_schema_check_runs_on_the_whole_column_not_row_by_row() -> None:
    (check,) = load_schema(DEMO_SCHEMA).columns["customer_id"].checks
    assert check.name == "str_matches" and not check.element_wise
