"""Reading the prediction log for the monitor: column-wise, the same table as reading it line by line, malformed
lines skipped and named, and only the newest day files the windows need."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from support.monitor_data import fit_model, reference_frame, write_log

from slipway.data.generator import ChurnSettings, generate_churn
from slipway.monitoring import log_reader
from slipway.monitoring.log_reader import read_prediction_log
from slipway.serving.prediction_log import FILE_PREFIX, FILE_SUFFIX

END = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
MALFORMED = '{"truncated": \n[1, 2, 3]\n{"v": 1, "inputs": "not a mapping"}\n\n'


@pytest.fixture(scope="module")
def model(config):
    return fit_model(config, reference_frame(2000))


def _log(folder: Path, config, model, rows: int = 300, days: int = 3) -> Path:
    """``rows`` predictions on each of ``days`` UTC days ending at END (as the serving API writes them)."""
    for day in range(days):
        frame = generate_churn(ChurnSettings(rows=rows, seed=day, id_offset=day * 1_000_000))
        write_log(folder, frame, model, config, end=END - timedelta(days=day), prefix=f"d{day}")
    return folder


def _line_by_line(folder: Path, skipped: list[str]) -> pd.DataFrame:
    """What the reader returned before it was column-wise: every file parsed line by line, then one sorted table."""
    parts = []
    for path in sorted(folder.glob(f"{FILE_PREFIX}*{FILE_SUFFIX}")):
        frame, _, bad = log_reader._read_lines(path.read_bytes())
        skipped += [f"{path.name}:{number}" for number in bad]
        parts.append(frame)
    frame = pd.concat([p for p in parts if len(p)], ignore_index=True)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True, format="ISO8601", errors="coerce")
    return frame.sort_values(["timestamp", "request_id", "record"], kind="stable").reset_index(drop=True)


def test_the_same_table_as_line_by_line_with_malformed_lines_skipped_and_named(tmp_path, config, model) -> None:
    folder = _log(tmp_path, config, model)
    files = sorted(folder.glob("*.jsonl"))
    with files[0].open("a") as handle:
        handle.write(MALFORMED)
    with files[-1].open("a") as handle:
        handle.write('{"v": 1, "timestamp": "2026-11-23T1')  # a crash mid-write
    expected_skipped: list[str] = []
    expected = _line_by_line(folder, expected_skipped)
    skipped: list[str] = []
    pd.testing.assert_frame_equal(read_prediction_log(folder, skipped=skipped), expected)
    assert skipped == expected_skipped == [f"{files[0].name}:{n}" for n in (301, 302, 303)] + [f"{files[-1].name}:301"]


def test_malformed_lines_do_not_send_a_file_line_by_line(tmp_path, config, model, monkeypatch) -> None:
    folder = _log(tmp_path, config, model, days=1)
    expected = read_prediction_log(folder)
    with next(folder.glob("*.jsonl")).open("a") as handle:
        handle.write(MALFORMED.replace('{"v": 1, "inputs": "not a mapping"}\n', "") + '{"cut off')

    def slow(data: bytes):
        raise AssertionError("the file was read line by line")

    monkeypatch.setattr(log_reader, "_read_lines", slow)
    skipped: list[str] = []
    pd.testing.assert_frame_equal(read_prediction_log(folder, skipped=skipped), expected)
    assert [s.rsplit(":", 1)[1] for s in skipped] == ["301", "302", "304"]


def test_only_the_newest_files_the_windows_need_are_read(tmp_path, config, model) -> None:
    folder = _log(tmp_path, config, model)
    everything = read_prediction_log(folder)
    oldest = sorted(folder.glob("*.jsonl"))[0]
    oldest.write_text(oldest.read_text() + "garbage\n")  # would be named if it were read
    skipped: list[str] = []
    newest = read_prediction_log(folder, skipped=skipped, newest=450)
    pd.testing.assert_frame_equal(newest, everything.tail(450).reset_index(drop=True))
    assert skipped == []
    read_prediction_log(folder, skipped=skipped, newest=700)  # needs the oldest file too
    assert skipped == [f"{oldest.name}:301"]


def test_the_newest_records_are_read_from_the_end_of_a_file(tmp_path, config, model, monkeypatch) -> None:
    folder = _log(tmp_path, config, model, days=1)
    everything = read_prediction_log(folder)
    path = next(folder.glob("*.jsonl"))
    lines = path.read_text().splitlines()
    lines[9] = lines[294] = "garbage"
    path.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(log_reader, "MIN_CHUNK", 1)
    monkeypatch.setattr(log_reader, "MARGIN", 40)
    skipped: list[str] = []
    newest = read_prediction_log(folder, skipped=skipped, newest=40)  # about the last 40 + 40 lines are read
    pd.testing.assert_frame_equal(newest, everything.drop(index=294).tail(40).reset_index(drop=True))
    assert skipped == [f"{path.name}:295"]  # line 10 was not read; numbers count from the file's start
    skipped.clear()
    assert len(read_prediction_log(folder, skipped=skipped, newest=290)) == 290  # reads further back as needed
    assert skipped == [f"{path.name}:10", f"{path.name}:295"]


def test_an_unreadable_timestamp_is_a_malformed_line(tmp_path, config, model) -> None:
    folder = _log(tmp_path, config, model, days=1)
    path = next(folder.glob("*.jsonl"))
    lines = path.read_text().splitlines()
    lines[4] = lines[4].replace('"timestamp":"2026-', '"timestamp":"yesterday-')
    path.write_text("\n".join(lines) + "\n")
    skipped: list[str] = []
    table = read_prediction_log(folder, skipped=skipped)
    assert len(table) == 299 and skipped == [f"{path.name}:5"]
    assert table["timestamp"].notna().all()
