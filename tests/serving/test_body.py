"""Reading a request body: the size limit's setting, and parsing (orjson, or piecewise) that always equals
json.loads."""

from __future__ import annotations

import json

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.budgets import examples

from slipway.serving.body import DEFAULT_MAX_BODY_BYTES, max_body_from_env, parse_json, parse_standard, release

_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(alphabet='ab{}[],:"\\ \n\u2028')
)
_values = st.recursive(
    _scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner)
)
_records = st.lists(st.one_of(st.dictionaries(st.text(max_size=4), _values, max_size=4), _values), max_size=30)
_separators = st.sampled_from([(", ", ": "), (",", ":"), ("  ,\n", " : ")])


def _outcome(parse, raw: bytes) -> tuple[str, str]:
    try:
        return "parsed", json.dumps(parse(raw))
    except (ValueError, RecursionError) as error:
        return "refused", type(error).__name__


@settings(max_examples=examples(400), deadline=None, database=None)
@given(records=_records, separators=_separators, piece=st.integers(1, 64), edit=st.data())
def test_piecewise_parsing_gives_exactly_what_json_loads_gives(records, separators, piece, edit) -> None:
    raw = json.dumps({"records": records}, separators=separators).encode()
    if edit.draw(st.booleans()):  # break it: drop, double or insert a character somewhere
        at = edit.draw(st.integers(0, len(raw)))
        insert = edit.draw(st.sampled_from([b"", b",", b"}", b"]", b'"', b" ", b"x"]))
        raw = raw[:at] + insert + raw[at + edit.draw(st.integers(0, 1)) :]
    assert _outcome(lambda r: parse_json(r, piece), raw) == _outcome(json.loads, raw)
    assert _outcome(lambda r: parse_standard(r, piece), raw) == _outcome(json.loads, raw)


@pytest.mark.parametrize(
    "number",
    [
        "9223372036854775807", "-9223372036854775808", "9223372036854775808", "18446744073709551615",
        "18446744073709551616", "-9223372036854775809", "99999999999999999999999", "1" * 400,
        "0.1000000000000000000001", "1e400", "-1e400", "1e-400", "NaN", "-Infinity",
    ],
)  # fmt: skip
def test_numbers_read_exactly_as_json_loads_reads_them(number: str) -> None:
    """orjson reads an integer beyond 64 bits as a float and refuses NaN and infinities: those go to json.loads."""
    raw = f'{{"records": [{{"age": {number}}}], "n": [{number}, 1]}}'.encode()
    assert _outcome(parse_json, raw) == _outcome(json.loads, raw)
    assert repr(parse_json(raw)) == repr(json.loads(raw))


@pytest.mark.parametrize(
    "raw",
    [
        b'{"records": [{"a": 1}, {"b": 2}, ]}',
        b'{"records": [{"a": 1},, {"b": 2}]}',
        b'{"records": [{"a": "}, {"}, {"b": 2}]}',
        b'{"records": [{"a": {"x": 1}, "y": 2}, {"b": 2}]}',
        b'{"records": [{"a": 1}], "records": [{"b": 2}, {"c": 3}]}',
        b'{"records": [{"a": 1}, {"b": 2}]}]}',
        b'{\x0c"records": [{"a": 1}, {"b": 2}]}',
        b'\xef\xbb\xbf{"records": [{"a": 1}, {"b": 2}]}',
        b'{"records": [{"a": NaN}, {"b": 1e999}]}',
    ],
)
def test_piecewise_parsing_of_tricky_bodies(raw: bytes) -> None:
    assert _outcome(lambda r: parse_json(r, 4), raw) == _outcome(json.loads, raw)
    assert _outcome(lambda r: parse_standard(r, 4), raw) == _outcome(json.loads, raw)


def test_release_empties_a_list_in_slices() -> None:
    items = list(range(10_000))
    alias = items
    release(items, step=300)
    assert alias == []


def test_the_body_limit_comes_from_the_environment(monkeypatch) -> None:
    monkeypatch.delenv("SLIPWAY_MAX_BODY_BYTES", raising=False)
    assert max_body_from_env() == DEFAULT_MAX_BODY_BYTES == 4 * 1024 * 1024
    monkeypatch.setenv("SLIPWAY_MAX_BODY_BYTES", "1000")
    assert max_body_from_env() == 1000
    for bad in ("0", "-5", "4MB", "1e6"):
        monkeypatch.setenv("SLIPWAY_MAX_BODY_BYTES", bad)
        with pytest.raises(ValueError, match="SLIPWAY_MAX_BODY_BYTES must be a positive number of bytes"):
            max_body_from_env()


def test_a_big_body_is_parsed_a_piece_at_a_time_by_orjson_too(monkeypatch) -> None:
    """No single parse holds the GIL for the whole body: the event loop answers /health between two pieces."""
    sizes: list[int] = []
    loads = orjson.loads

    def recording_loads(data: bytes | str) -> object:
        sizes.append(len(data))
        return loads(data)

    monkeypatch.setattr(orjson, "loads", recording_loads)
    records = [{"customer_id": f"C{i:08d}", "age": i % 90, "contract": "month-to-month"} for i in range(2_000)]
    raw = json.dumps({"records": records}).encode()
    assert parse_json(raw, piece=4_096) == {"records": records}
    assert len(sizes) > 10 and max(sizes) < 4_096 + 100, sizes  # a piece, and at most one record more
