"""Text that came from a request, made safe to show in an error body or a log line: bounded and printable.

A client chooses field names and values, so anything echoed back or logged may hold line breaks (a forged log
line), terminal escapes, lone surrogates (which cannot be encoded as UTF-8) or megabytes of text. :func:`echo`
escapes every non-printable character the way Python writes it in a string literal (``\\n``, ``\\x1b``,
``\\ud800``) and cuts the text to a limit, saying how long it was.
"""

from __future__ import annotations

import contextlib
import math
import reprlib
from typing import Any

ECHO_LIMIT = 200
"""Characters of a client's field name or value shown in an error or a log line."""

_repr = reprlib.Repr()
_repr.maxstring = _repr.maxother = ECHO_LIMIT


def _escaped(char: str) -> str:
    return char.encode("unicode_escape").decode("ascii")


def echo(text: str, limit: int = ECHO_LIMIT) -> str:
    """``text`` with every non-printable character escaped (no line breaks, control or format characters, or lone
    surrogates remain), cut to at most ``limit`` characters (never inside an escape), plus a note of the full length
    when it was cut."""
    head = text[:limit]
    if not head.isprintable():
        pieces: list[str] = []
        size = 0
        for char in head:
            piece = char if char.isprintable() else _escaped(char)
            if size + len(piece) > limit:
                return f"{''.join(pieces)}... ({len(text):,} characters)"
            pieces.append(piece)
            size += len(piece)
        head = "".join(pieces)
    return head if len(text) <= limit else f"{head}... ({len(text):,} characters)"


def echo_value(value: Any, limit: int = ECHO_LIMIT) -> Any:
    """A JSON value fit to echo: booleans, null, finite numbers and 64-bit integers as they are; text escaped and
    bounded; anything else (a list, an object, a huge integer, infinity) as bounded, escaped text."""
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # a numpy scalar
        with contextlib.suppress(TypeError, ValueError):
            value = value.item()
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and -(2**63) <= value < 2**64:
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    if isinstance(value, str):
        return echo(value, limit)
    return echo(str(value) if isinstance(value, int | float) else _repr.repr(value), limit)
