"""A prediction request's body: bounded while it is read, parsed and let go of without stalling the server.

:func:`read_body` refuses a body over the limit as soon as that is known (from ``Content-Length`` before anything is
read, else by counting the bytes of a chunked body as they arrive), so memory stays bounded whatever a client sends.

:func:`parse_json` returns exactly what ``json.loads`` returns (or raises), reading with orjson (several times
faster) whenever orjson reads the body the same way: orjson refuses what the standard parser reads with Python's
extensions (``NaN``, ``Infinity``, lone surrogates, a byte-order mark...) and reads an integer beyond 64 bits as a
float, so a body it refuses, or with a run of 19 digits, is read by the standard parser.

A big batch is handled in a worker thread, but a single parse holds the GIL for the whole body (``json.loads``
about 20 ms per MB, orjson about 10), and freeing 100,000 parsed records in one go does too: either would stall the
event loop, and ``/health``, for a fifth of a second or more (three times that on a loaded machine). Both parsers
therefore read the records of a big ``{"records": [...]}`` body in pieces of about ``PIECE_BYTES``, and
:func:`release` empties big lists a slice at a time.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import orjson

from slipway.serving.echo import echo

MAX_BODY_ENV = "SLIPWAY_MAX_BODY_BYTES"
DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024
PIECE_BYTES = 256 * 1024

_RECORDS_HEAD = re.compile(r'[ \t\n\r]*\{[ \t\n\r]*"records"[ \t\n\r]*:[ \t\n\r]*\[')  # JSON's whitespace only
_JSON_SPACE = " \t\n\r"
_DIGITS = bytes(48 if 48 <= b <= 57 else 32 for b in range(256))  # every digit as "0", anything else as " "
_LONG_NUMBER = b"0" * 19  # the shortest integer literal that may not fit 64 bits


class ClientGone(ConnectionError):
    """The client disconnected before sending the whole body."""


class BodyTooLarge(ValueError):
    """The request body is over the limit; the message names the limit and how to change it."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"request body larger than the limit of {limit:,} bytes (set by {MAX_BODY_ENV} or slipway serve "
            "--max-body-bytes)"
        )


def max_body_from_env() -> int:
    """``$SLIPWAY_MAX_BODY_BYTES`` (a positive number of bytes), or the default when unset."""
    text = os.environ.get(MAX_BODY_ENV, "").strip()
    if not text:
        return DEFAULT_MAX_BODY_BYTES
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{MAX_BODY_ENV} must be a positive number of bytes, got {echo(text)!r}")
    return int(text)


async def read_body(
    headers: Iterable[tuple[bytes, bytes]], receive: Callable[[], Awaitable[Mapping[str, Any]]], limit: int
) -> bytes:
    """The body of an ASGI request (its ``headers`` and ``receive``), or BodyTooLarge as soon as it is known to exceed
    ``limit`` bytes (at most ``limit`` bytes are ever held); ClientGone if the client disconnects first."""
    for name, value in headers:
        if name == b"content-length":
            if value.isdigit() and int(value) > limit:
                raise BodyTooLarge(limit)
            break
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise ClientGone("the client went away before sending the whole body")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def parse_json(raw: bytes, piece: int = PIECE_BYTES) -> Any:
    """What ``json.loads(raw)`` gives (or raises): orjson's reading when it is the same (see the module docstring)."""
    if _LONG_NUMBER not in raw.translate(_DIGITS):
        try:
            if len(raw) <= piece:
                return orjson.loads(raw)
            return _parse_in_pieces(raw.decode(), orjson.loads, piece)  # orjson reads UTF-8 only, as does decode()
        except ValueError:  # refused by orjson (or not UTF-8): the standard parser decides (it may read it)
            pass
    return parse_standard(raw, piece)


def parse_standard(raw: bytes, piece: int = PIECE_BYTES) -> Any:
    """What ``json.loads(raw)`` gives (or raises), parsing a big ``{"records": [...]}`` body a piece at a time."""
    if len(raw) <= piece:
        return json.loads(raw)
    return _parse_in_pieces(raw.decode(json.detect_encoding(raw), "surrogatepass"), json.loads, piece)  # as json.loads


def _parse_in_pieces(text: str, loads: Callable[[str], Any], piece: int) -> Any:
    """What ``loads(text)`` gives (or raises), the records of a ``{"records": [...]}`` body parsed a piece at a time.

    The records are cut after a ``}`` followed by ``,`` about every ``piece`` characters, and each piece is parsed as
    a JSON array. A cut that is not between two records (inside a string, or inside a nested value) leaves a piece
    that is not valid JSON, and then the whole text is parsed at once, so the result is always ``loads``'.
    """
    head, end = _RECORDS_HEAD.match(text), _closing_bracket(text)
    if len(text) <= piece or head is None or end < head.end():
        return loads(text)
    records: list[Any] = []
    start = head.end()
    while True:
        cut = text.find("},", min(start + piece, end), end)
        stop = end if cut < 0 else cut + 1
        part = text[start:stop]
        try:
            if not part.strip(_JSON_SPACE):
                raise ValueError("no records, two commas in a row, or a comma before ']'")
            records += loads(f"[{part}]")
        except (ValueError, RecursionError):
            return loads(text)
        if stop == end:
            break
        start = stop + 1
    return {"records": records}


def _closing_bracket(text: str) -> int:
    """Where the ``]`` of a text ending in ``]}`` (and JSON's whitespace) is, else -1: looked for from the end, as
    a regular expression anchored there would try every position of a big body first."""
    end = _before_space(text, len(text))
    if not text.endswith("}", 0, end):
        return -1
    end = _before_space(text, end - 1)
    return end - 1 if text.endswith("]", 0, end) else -1


def _before_space(text: str, end: int) -> int:
    """``end`` moved back over the JSON whitespace before it."""
    while end and text[end - 1] in _JSON_SPACE:
        end -= 1
    return end


def release(items: list[Any], step: int = 2048) -> None:
    """Empty a list a slice at a time: freeing 100,000 parsed records in one go holds the GIL for a third of a
    second or more, which would stall the event loop while a worker thread lets go of a big batch."""
    while items:
        del items[-step:]
