"""The prediction log: what the serving API was asked and what it answered, as JSON lines, one file per UTC day.

Every validated request appends one line per record to ``<log_dir>/predictions-YYYY-MM-DD.jsonl`` (the date is
the UTC date of the request). Line format (version 1), keys always present::

    {"v": 1,
     "timestamp": "2026-11-23T18:20:01.123456+00:00",   # UTC, ISO 8601, when the request was answered
     "request_id": "6f1c...",                            # returned to the caller; the same for a batch
     "record": 0,                                        # position of the record in its request
     "model_version": "v1.2.0",                          # version.json's version, or "unversioned"
     "backend": "onnx",                                  # "onnx" or "sklearn"
     "inputs": {"tenure_months": 12, "contract": "one-year", ..., "customer_id": "C00000001"},
     "prediction": 0.731,                                # binary: probability of the positive class
     "label": 1}                                         # binary: the class at the serving threshold

For a multiclass model ``prediction`` is the probability of ``label``, the predicted class; for a regression
model ``prediction`` is the predicted value and ``label`` is null.

``inputs`` holds the record's fields after validation (the id column too when the caller sent it), so labels that
arrive later can be joined on ``customer_id`` or on ``(request_id, record)``. ``slipway.monitoring.log_reader``
reads the files back into one table. Logging is off unless a folder is given (``SLIPWAY_PREDICTION_LOG`` or
``slipway serve --prediction-log``).

The server hands each answered request over (``PredictionLog.submit``) and goes on: a background thread formats
the lines (orjson; text stays UTF-8) and appends them, many requests per write (``slipway.serving.log_writer``).
``close`` (at server shutdown, and at interpreter exit) writes everything handed over before it returns.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

import numpy as np
import orjson
import pandas as pd

from slipway.serving.body import release
from slipway.serving.log_writer import BackgroundWriter

ENV_VAR = "SLIPWAY_PREDICTION_LOG"
FORMAT_VERSION = 1
FILE_PREFIX = "predictions-"
FILE_SUFFIX = ".jsonl"
META_COLUMNS = ("timestamp", "request_id", "record", "model_version", "backend", "prediction", "label")
MAX_PENDING_ROWS = 200_000
"""Rows handed over but not yet written, beyond which the server waits for the disk (bounded memory)."""


def log_file_name(day: date) -> str:
    """``predictions-YYYY-MM-DD.jsonl`` for a UTC day."""
    return f"{FILE_PREFIX}{day.isoformat()}{FILE_SUFFIX}"


def file_day(path: Path) -> date | None:
    stem = path.name.removeprefix(FILE_PREFIX).removesuffix(FILE_SUFFIX)
    try:
        return date.fromisoformat(stem)
    except ValueError:
        return None


def _plain(value: Any) -> Any:
    """What orjson cannot write as it is: ``pd.NA`` as null, other numpy/pandas scalars as Python values."""
    if value is pd.NA:
        return None
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{type(value).__name__} cannot be written to the prediction log")


def _json(value: Any) -> bytes:
    """One value as JSON (NaN and infinities as null, numpy scalars as numbers)."""
    return orjson.dumps(value, default=_plain, option=orjson.OPT_SERIALIZE_NUMPY)


def _lines(
    moment: datetime, request_id: str, version: str, backend: str, inputs: Sequence[Any], scores: Any, labels: Any,
    first: int = 0,
) -> bytes:  # fmt: skip
    """The lines of a request's records (numbered from ``first``), built around one JSON text per record's inputs:
    the keys in the documented order, the same bytes as each line's object written whole."""
    head = b'{"v":%d,"timestamp":%s,"request_id":%s,"record":' % (
        FORMAT_VERSION,
        _json(moment.astimezone(UTC).isoformat()),
        _json(request_id),
    )
    middle = b',"model_version":%s,"backend":%s,"inputs":' % (_json(version), _json(backend))
    values = _json(np.asarray(scores, dtype=np.float64).tolist())[1:-1].split(b",")  # (a number holds no comma)
    texts: dict[tuple[type, Any], bytes] = {}  # a request's labels are a few classes
    classes = [texts.get((type(y), y)) or texts.setdefault((type(y), y), _json(y)) for y in labels]
    rows = zip(inputs, values, classes, strict=True)
    return b"".join(
        b'%s%d%s%s,"prediction":%s,"label":%s}\n'
        % (head, i, middle, _json(row if type(row) is dict else dict(row)), p, y)
        for i, (row, p, y) in enumerate(rows, first)
    )


@dataclass(frozen=True)
class PredictionRecord:
    """One answered record, as it is written to the log."""

    timestamp: datetime
    request_id: str
    record: int
    model_version: str
    backend: str
    inputs: Mapping[str, Any]
    prediction: float
    label: int | float | str | bool | None

    def line(self) -> bytes:
        """The record's line, newline included."""
        return _lines(
            self.timestamp, self.request_id, self.model_version, self.backend,
            [self.inputs], [self.prediction], [self.label], self.record,
        )  # fmt: skip


@dataclass(frozen=True)
class LoggedRequest:
    """One answered request, as the server hands it over: one line per record, formatted by the writer thread."""

    timestamp: datetime
    request_id: str
    model_version: str
    backend: str
    inputs: Sequence[Mapping[str, Any]]
    predictions: Sequence[float] | np.ndarray
    labels: Sequence[int | float | str | bool | None]

    def text(self) -> bytes:
        return _lines(
            self.timestamp, self.request_id, self.model_version, self.backend,
            self.inputs, self.predictions, self.labels,
        )  # fmt: skip


def records_for_request(
    *,
    request_id: str,
    inputs: Sequence[Mapping[str, Any]],
    probabilities: Sequence[float],
    labels: Sequence[int | float | str | bool | None],
    model_version: str,
    backend: str,
    timestamp: datetime | None = None,
) -> list[PredictionRecord]:
    """The log records of one answered request (one per input record)."""
    when = timestamp or datetime.now(UTC)
    return [
        PredictionRecord(when, request_id, i, model_version, backend, row, float(p), y)
        for i, (row, p, y) in enumerate(zip(inputs, probabilities, labels, strict=True))
    ]


class PredictionLog:
    """Appends requests to the day's file from a background thread; reopens the file when the UTC day changes."""

    def __init__(self, log_dir: Path | str) -> None:
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._day: date | None = None
        self._handle: IO[bytes] | None = None
        self._writer: BackgroundWriter[LoggedRequest | list[PredictionRecord]] = BackgroundWriter(
            self._append, "prediction log", MAX_PENDING_ROWS
        )

    def submit(self, request: LoggedRequest) -> None:
        """Hand over an answered request (returns at once; the lines are written shortly). The log takes its
        ``inputs`` list over: once written, the list is emptied a slice at a time (see ``release``)."""
        self._writer.submit(request, len(request.inputs))

    def write(self, records: Iterable[PredictionRecord]) -> None:
        """Hand over records (as ``submit``); ``flush`` or ``close`` to wait until they are written."""
        records = list(records)
        if records:
            self._writer.submit(records, len(records))

    def flush(self) -> None:
        self._writer.flush()

    def close(self) -> None:
        """Write everything handed over, then close the file."""
        self._writer.close()
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def _append(self, entries: list[LoggedRequest | list[PredictionRecord]]) -> None:
        """(Writer thread.) Append the entries' lines, day file by day file, in one write per file."""
        by_day: dict[date, list[bytes]] = {}
        for entry in entries:
            if isinstance(entry, LoggedRequest):
                day, text = entry.timestamp.astimezone(UTC).date(), entry.text()
            else:  # a request's records: all in the day of the first
                day, text = entry[0].timestamp.astimezone(UTC).date(), b"".join(r.line() for r in entry)
            by_day.setdefault(day, []).append(text)
        for day, texts in by_day.items():
            if day != self._day or self._handle is None:
                if self._handle is not None:
                    self._handle.close()
                self._handle = (self.log_dir / log_file_name(day)).open("ab")
                self._day = day
            self._handle.write(b"".join(texts))
        if self._handle is not None:
            self._handle.flush()
        for entry in entries:  # a big batch's records, let go of a slice at a time (see ``release``)
            if isinstance(entry, LoggedRequest) and isinstance(entry.inputs, list):
                release(entry.inputs)


def log_from_env(log_dir: Path | str | None = None) -> PredictionLog | None:
    """The prediction log for ``log_dir``, else for ``$SLIPWAY_PREDICTION_LOG``; None (logging off) if neither."""
    chosen = log_dir or os.environ.get(ENV_VAR) or None
    return PredictionLog(chosen) if chosen else None
