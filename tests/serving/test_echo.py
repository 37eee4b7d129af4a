"""Echoing client text: every result is printable, encodable and bounded; printable short text is unchanged."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from slipway.serving.echo import ECHO_LIMIT, echo, echo_value

_any_text = st.text(alphabet=st.characters(codec=None, categories=None), max_size=600)


@given(text=_any_text, limit=st.integers(1, 300))
def test_echo_is_printable_encodable_and_bounded(text: str, limit: int) -> None:
    shown = echo(text, limit)
    assert shown.isprintable()
    shown.encode("utf-8")
    head = shown.partition("... (")[0]
    assert len(head) <= limit
    if text.isprintable() and len(text) <= limit:
        assert shown == text
    else:
        assert "\n" not in shown and "\r" not in shown


def test_echo_escapes_as_python_writes_it() -> None:
    assert (
        echo("a\nERROR forged\r\x1b[31m\x00\u2028\u202e\ud800")
        == "a\\nERROR forged\\r\\x1b[31m\\x00\\u2028\\u202e\\ud800"
    )
    assert echo("x" * 1000) == "x" * ECHO_LIMIT + "... (1,000 characters)"


def test_echo_value_keeps_json_scalars_and_bounds_the_rest() -> None:
    assert [echo_value(v) for v in (None, True, 3, 2.5, "ok")] == [None, True, 3, 2.5, "ok"]
    assert echo_value(math.inf) == "inf" and echo_value(2**70) == str(2**70)
    nested = echo_value({"\ud800": list(range(10_000))})
    assert isinstance(nested, str) and nested.isprintable() and len(nested) <= ECHO_LIMIT + 30
