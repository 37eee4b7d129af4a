"""The prediction log: line format, daily files, reading back with a ``since`` filter."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from slipway.monitoring.log_reader import read_prediction_log
from slipway.serving.prediction_log import (
    ENV_VAR,
    LoggedRequest,
    PredictionLog,
    log_file_name,
    log_from_env,
    records_for_request,
)

ROW = {"tenure_months": 3, "monthly_charges": 70.5, "total_charges": float("nan"), "contract": "one-year"}


def _records(when: datetime, request_id: str = "r1", n: int = 2):
    return records_for_request(
        request_id=request_id,
        inputs=[ROW] * n,
        probabilities=[0.25, 0.75][:n] + [0.5] * max(0, n - 2),
        labels=[0, 1][:n] + [1] * max(0, n - 2),
        model_version="v1.0.0",
        backend="onnx",
        timestamp=when,
    )


def test_lines_follow_the_documented_format(tmp_path: Path) -> None:
    log = PredictionLog(tmp_path)
    log.write(_records(datetime(2026, 11, 23, 10, 0, tzinfo=UTC)))
    log.close()
    lines = (tmp_path / "predictions-2026-11-23.jsonl").read_text().splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert set(first) == {
        "v",
        "timestamp",
        "request_id",
        "record",
        "model_version",
        "backend",
        "inputs",
        "prediction",
        "label",
    }
    assert first["timestamp"] == "2026-11-23T10:00:00+00:00"
    assert first["inputs"]["total_charges"] is None  # NaN is written as null, the line stays valid JSON
    assert [json.loads(line)["record"] for line in lines] == [0, 1]


def test_a_submitted_request_is_written_as_its_records_would_be(tmp_path: Path) -> None:
    when = datetime(2026, 11, 23, 10, 0, 0, 123456, tzinfo=UTC)
    rows = [{**ROW, "contract": "zwei-jährig"}, {**ROW, "total_charges": np.float64("nan"), "age": np.int64(40)}]
    submitted, written = PredictionLog(tmp_path / "a"), PredictionLog(tmp_path / "b")
    submitted.submit(LoggedRequest(when, "r1", "v1.0.0", "onnx", list(rows), np.array([0.25, 0.75]), [0, True]))
    written.write(
        records_for_request(
            request_id="r1", inputs=rows, probabilities=[0.25, 0.75], labels=[0, True],
            model_version="v1.0.0", backend="onnx", timestamp=when,
        )
    )  # fmt: skip
    submitted.close()
    written.close()
    name = "predictions-2026-11-23.jsonl"
    text = (tmp_path / "a" / name).read_text(encoding="utf-8")
    assert text == (tmp_path / "b" / name).read_text(encoding="utf-8")
    first, second = map(json.loads, text.splitlines())
    assert first["inputs"]["contract"] == "zwei-jährig" and first["timestamp"] == "2026-11-23T10:00:00.123456+00:00"
    assert second["inputs"]["total_charges"] is None and second["inputs"]["age"] == 40 and second["label"] is True
    keys = "v timestamp request_id record model_version backend inputs prediction label"
    assert list(first) == keys.split()  # the documented order


def test_files_rotate_by_utc_day_and_reader_filters_since(tmp_path: Path) -> None:
    log = PredictionLog(tmp_path)
    log.write(_records(datetime(2026, 11, 22, 23, 59, tzinfo=UTC), "a"))
    log.write(_records(datetime(2026, 11, 23, 0, 1, tzinfo=UTC), "b"))
    log.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        log_file_name(date(2026, 11, 22)),
        log_file_name(date(2026, 11, 23)),
    ]
    everything = read_prediction_log(tmp_path)
    assert list(everything["request_id"]) == ["a", "a", "b", "b"]
    assert str(everything["timestamp"].dt.tz) == "UTC"
    assert everything.loc[1, "prediction"] == 0.75 and everything.loc[1, "label"] == 1
    assert everything.loc[0, "contract"] == "one-year" and pd.isna(everything.loc[0, "total_charges"])
    later = read_prediction_log(tmp_path, since=datetime(2026, 11, 23, 0, 0))
    assert list(later["request_id"]) == ["b", "b"]
    assert read_prediction_log(tmp_path, since="2026-11-24").empty


def test_reader_on_missing_folder_and_truncated_line(tmp_path: Path) -> None:
    empty = read_prediction_log(tmp_path / "nothing")
    assert empty.empty and "prediction" in empty.columns
    log = PredictionLog(tmp_path)
    log.write(_records(datetime(2026, 1, 2, tzinfo=UTC), n=1))
    log.close()
    with (tmp_path / "predictions-2026-01-02.jsonl").open("a") as handle:
        handle.write('{"v": 1, "timestamp": "2026-01-02T0')  # a crash mid-write
    assert len(read_prediction_log(tmp_path)) == 1


def test_concurrent_writers_do_not_interleave_lines(tmp_path: Path) -> None:
    log = PredictionLog(tmp_path)
    when = datetime(2026, 3, 4, tzinfo=UTC)
    threads = [threading.Thread(target=lambda i=i: log.write(_records(when, f"t{i}", n=50))) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    log.close()
    table = read_prediction_log(tmp_path)
    assert len(table) == 400
    assert table.groupby("request_id")["record"].apply(sorted).map(list).eq([list(range(50))] * 8).all()


def test_logging_is_off_unless_a_folder_is_given(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert log_from_env() is None
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "env"))
    from_env, from_cli = log_from_env(), log_from_env(tmp_path / "cli")
    assert from_env is not None and from_env.log_dir == tmp_path / "env"
    assert from_cli is not None and from_cli.log_dir == tmp_path / "cli"


def test_columnar_and_line_by_line_reading_agree_and_malformed_lines_are_named(tmp_path: Path) -> None:
    from slipway.monitoring.log_reader import _read_columnar, _read_lines

    log = PredictionLog(tmp_path)
    log.write(_records(datetime(2026, 11, 23, 10, 0, tzinfo=UTC), n=5))
    log.close()
    path = tmp_path / "predictions-2026-11-23.jsonl"
    columnar = _read_columnar(path.read_bytes())
    assert columnar is not None
    pd.testing.assert_frame_equal(columnar, _read_lines(path.read_bytes())[0])
    with path.open("a") as handle:
        handle.write('{"cut off\n[1]\n')
    assert _read_columnar(path.read_bytes()) is None  # pyarrow refuses the file: the bad lines are set aside
    skipped: list[str] = []
    frame = read_prediction_log(tmp_path, skipped=skipped)
    assert len(frame) == 5
    assert skipped == ["predictions-2026-11-23.jsonl:6", "predictions-2026-11-23.jsonl:7"]
