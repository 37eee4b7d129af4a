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
arrive later can be joined on ``customer_id`` or on ``(request_id, record)``. ``read_prediction_log`` turns the
files back into one table for monitoring. Logging is off unless a folder is given (``SLIPWAY_PREDICTION_LOG`` or
``slipway serve --prediction-log``).

The server hands each answered request over (``PredictionLog.submit``) and goes on: a background thread formats
the lines (orjson; text stays UTF-8) and appends them, many requests per write (``slipway.serving.log_writer``).
``close`` (at server shutdown, and at interpreter exit) writes everything handed over before it returns.
"""

from __future__ import annotations

import io
import json
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


def _file_day(path: Path) -> date | None:
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


def _as_utc(moment: datetime | date | str) -> datetime:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _empty_log() -> pd.DataFrame:
    frame = pd.DataFrame({key: pd.Series(dtype="object") for key in META_COLUMNS})
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    return frame


def read_prediction_log(
    log_dir: Path | str,
    since: datetime | date | str | None = None,
    skipped: list[str] | None = None,
    newest: int | None = None,
) -> pd.DataFrame:
    """The logged records (optionally those at or after ``since``, naive times meaning UTC) as one table.

    Columns: ``timestamp`` (datetime64, UTC), ``request_id``, ``record``, ``model_version``, ``backend``,
    ``prediction`` (probability or value), ``label``, then one column per input field. Sorted by time; empty (with the
    metadata columns) when there is nothing. Each file is parsed column-wise (pyarrow). Blank lines are ignored;
    malformed lines (truncated by a crash mid-write, not a JSON object with an ``inputs`` object, an unreadable
    timestamp) are skipped, each noted as ``file:line`` in ``skipped`` when a list is given (the monitor reports them).

    ``newest``: only the newest N records. Day files are read newest first, each from its end (lines are appended in
    time order), and reading stops once there are enough: the cost follows N, not the size of the log.
    """
    folder = Path(log_dir)
    start = pd.Timestamp(_as_utc(since)) if since is not None else None
    files = sorted(folder.glob(f"{FILE_PREFIX}*{FILE_SUFFIX}"), reverse=True) if folder.is_dir() else []
    parts: list[pd.DataFrame] = []
    malformed: dict[str, list[int]] = {}
    found = 0
    for path in files:
        day = _file_day(path)
        if day is None or (start is not None and day < start.date()):
            continue
        need = None if newest is None else newest - found
        part = _read_day_file(path, malformed.setdefault(path.name, []), need)
        if start is not None:
            part = part[(part["timestamp"] >= start).to_numpy()]
        if len(part):
            parts.append(part)
            found += len(part)
        if newest is not None and found >= newest:
            break
    if skipped is not None:
        skipped.extend(f"{name}:{number}" for name in sorted(malformed) for number in malformed[name])
    if not parts:
        return _empty_log()
    frame = pd.concat(parts[::-1], ignore_index=True) if len(parts) > 1 else parts[0]
    frame = frame.sort_values(["timestamp", "request_id", "record"], kind="stable")
    if newest is not None:
        frame = frame.tail(newest)
    return frame.reset_index(drop=True)


LINE_BYTES = 512
"""A generous guess at the length of a log line, to size the first read from a file's end ..."""
MIN_CHUNK = 1 << 20
"""... of at least this many bytes."""
MARGIN = 256
"""Lines read beyond those needed: concurrent requests may append their lines slightly out of time order."""


def _tail(path: Path, size: int, chunk: int) -> tuple[bytes, int]:
    """The whole lines within the last ``chunk`` bytes of a file, and the offset where they start."""
    start = max(0, size - chunk)
    with path.open("rb") as handle:
        handle.seek(start)
        data = handle.read()
    if start:
        cut = data.find(b"\n") + 1  # the first line is cut short: it starts before the chunk
        data, start = (data[cut:], start + cut) if cut else (b"", size)
    return data, start


def _lines_before(path: Path, offset: int) -> int:
    with path.open("rb") as handle:
        return handle.read(offset).count(b"\n")


def _read_day_file(path: Path, malformed: list[int], need: int | None = None) -> pd.DataFrame:
    """One day file with parsed timestamps; the numbers of malformed lines (an unreadable timestamp too) go to
    ``malformed``. ``need``: only its last lines, ``MARGIN`` more valid ones than that (or all there are)."""
    size = path.stat().st_size
    chunk = size if need is None else min(size, max(MIN_CHUNK, (need + MARGIN) * LINE_BYTES))
    while True:
        data, start = _tail(path, size, chunk)
        frame, bad = _parse_lines(data)
        if need is None or start == 0 or len(frame) >= need + MARGIN:
            break
        chunk = min(size, chunk * 4)
    if bad:
        offset = _lines_before(path, start) if start else 0
        malformed.extend(number + offset for number in bad)
    return frame


def _parse_lines(data: bytes) -> tuple[pd.DataFrame, list[int]]:
    """JSON lines to rows with parsed timestamps, and the numbers (1: the first line of ``data``) of the lines that
    were skipped: column-wise when pyarrow reads them all; else column-wise without the lines that do not even look
    like an object; line by line only when a line breaks pyarrow's types."""
    frame, lines = _read_columnar(data), None
    bad: list[int] = []
    if frame is None:
        plausible, bad = _plausible_lines(data)
        frame = _read_columnar(b"\n".join(text for _, text in plausible))
        lines = np.array([number for number, _ in plausible], dtype=np.int64)
        if frame is None:
            frame, lines, bad = _read_lines(data)
    stamps = pd.to_datetime(frame["timestamp"], utc=True, format="ISO8601", errors="coerce")
    unreadable = stamps.isna().to_numpy()
    if unreadable.any():
        if lines is None:
            lines = np.array([number for number, _ in _plausible_lines(data, keep_all=True)[0]], dtype=np.int64)
        bad = sorted([*bad, *lines[unreadable].tolist()])
        frame, stamps = frame[~unreadable], stamps[~unreadable]
    return frame.assign(timestamp=stamps.astype("datetime64[us, UTC]")), bad


def _plausible_lines(data: bytes, keep_all: bool = False) -> tuple[list[tuple[int, bytes]], list[int]]:
    """Non-blank lines that look like one JSON object each, with their line numbers, and the numbers of the others
    (a cheap byte test; ``keep_all``: every non-blank line is kept)."""
    kept: list[tuple[int, bytes]] = []
    bad: list[int] = []
    for number, line in enumerate(data.split(b"\n"), 1):
        text = line.strip()
        if not text:
            continue
        if keep_all or (text.startswith(b"{") and text.endswith(b"}")):
            kept.append((number, text))
        else:
            bad.append(number)
    return kept, bad


def _read_columnar(data: bytes) -> pd.DataFrame | None:
    """Well-formed JSON lines in one vectorised pass (pyarrow): the metadata columns then one per input field;
    None when pyarrow cannot read them or a record lacks an ``inputs`` object."""
    import pyarrow as pa
    import pyarrow.json as pa_json

    if not data or (len(data) < 4096 and not data.strip()):
        return pd.DataFrame(columns=list(META_COLUMNS))
    try:
        options = pa_json.ParseOptions(
            explicit_schema=pa.schema([("timestamp", pa.string()), ("request_id", pa.string())]),
            unexpected_field_behavior="infer",
        )
        table = pa_json.read_json(io.BytesIO(data), parse_options=options)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError):
        return None
    names = table.column_names
    if "inputs" not in names or not pa.types.is_struct(table.schema.field("inputs").type):
        return None
    inputs = table.column("inputs").combine_chunks()
    if inputs.null_count:
        return None
    columns = {key: table.column(key) if key in names else pa.nulls(len(table)) for key in META_COLUMNS}
    for field in inputs.type:
        if field.name not in columns:
            columns[field.name] = inputs.field(field.name)
    return pa.table(columns).to_pandas()


def _read_lines(data: bytes) -> tuple[pd.DataFrame, np.ndarray, list[int]]:
    """JSON lines one by one (when a line breaks the columnar reader's types): the rows, their line numbers, and the
    numbers of malformed lines."""
    rows: list[dict[str, Any]] = []
    numbers: list[int] = []
    bad: list[int] = []
    for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            item = None
        if not isinstance(item, dict) or not isinstance(item.get("inputs", {}), dict):
            bad.append(number)
            continue
        row = {key: item.get(key) for key in META_COLUMNS}
        row.update(item.get("inputs") or {})
        rows.append(row)
        numbers.append(number)
    return pd.DataFrame(rows, columns=None if rows else list(META_COLUMNS)), np.array(numbers, dtype=np.int64), bad
