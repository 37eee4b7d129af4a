"""Reading the prediction log back (``slipway.serving.prediction_log`` writes it) as one table, column-wise: the
monitor's input. Files are read newest first, each from its end, so the cost follows the rows asked for."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from slipway.serving.prediction_log import FILE_PREFIX, FILE_SUFFIX, META_COLUMNS, file_day


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
        day = file_day(path)
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
