"""Labels arriving later: recorded as JSON lines, read back (malformed lines reported), joined by request id."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from slipway.monitoring.labels import join_labels, read_labels, record_labels


def test_record_read_and_join(tmp_path: Path) -> None:
    when = datetime(2026, 11, 30, 8, tzinfo=UTC)
    path = record_labels(tmp_path, pd.DataFrame({"request_id": ["a", "b"], "label": [1, 0]}), now=when)
    assert path.name == "labels-2026-11-30.jsonl"
    record_labels(tmp_path, pd.DataFrame({"request_id": ["b"], "label": [1]}), now=when)  # a correction
    labels = read_labels(tmp_path)
    assert labels.set_index("request_id")["label"].to_dict() == {"a": 1, "b": 1}
    log = pd.DataFrame({"request_id": ["a", "b", "c"], "record": [0, 0, 0]})
    joined = join_labels(log, labels)
    assert joined["actual"].tolist()[:2] == [1.0, 1.0]
    assert np.isnan(joined["actual"].iloc[2])  # no label yet


def test_batch_records_are_joined_by_position(tmp_path: Path) -> None:
    record_labels(tmp_path, pd.DataFrame({"request_id": ["r", "r"], "record": [0, 1], "label": [0, 1]}))
    log = pd.DataFrame({"request_id": ["r", "r"], "record": [1, 0]})
    assert join_labels(log, read_labels(tmp_path))["actual"].tolist() == [1.0, 0.0]


def test_malformed_label_lines_are_skipped_and_named(tmp_path: Path) -> None:
    record_labels(tmp_path, pd.DataFrame({"request_id": ["a"], "label": [1]}), now=datetime(2026, 1, 2, tzinfo=UTC))
    with (tmp_path / "labels-2026-01-02.jsonl").open("a") as handle:
        handle.write('{"request_id": "b"}\n[1, 2]\nnot json\n{"request_id": "c", "label": null}\n')
    skipped: list[str] = []
    labels = read_labels(tmp_path, skipped=skipped)
    assert labels["request_id"].tolist() == ["a"]
    assert skipped == [f"labels-2026-01-02.jsonl:{n}" for n in (2, 3, 4, 5)]


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"id": ["a"], "label": [1]}), "request_id"),
        (pd.DataFrame({"request_id": ["a"], "label": [3]}), "binary labels must be 0 or 1"),
        (pd.DataFrame({"request_id": ["a"], "label": ["x"]}), "binary labels must be 0 or 1"),
    ],
)
def test_bad_labels_are_refused(tmp_path: Path, frame: pd.DataFrame, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        record_labels(tmp_path, frame)
    assert not list(tmp_path.glob("*.jsonl"))


def test_classes_and_values_are_recorded_as_they_are(tmp_path: Path) -> None:
    record_labels(
        tmp_path, pd.DataFrame({"request_id": ["a", "b"], "label": ["setosa", "virginica"]}), task="multiclass"
    )
    assert read_labels(tmp_path)["label"].tolist() == ["setosa", "virginica"]
    values = tmp_path / "values"
    record_labels(values, pd.DataFrame({"request_id": ["a", "b"], "label": [151.5, 75]}), task="regression")
    joined = join_labels(pd.DataFrame({"request_id": ["b", "a", "c"], "record": [0, 0, 0]}), read_labels(values))
    assert joined["actual"].tolist()[:2] == [75.0, 151.5] and np.isnan(joined["actual"].iloc[2])


@pytest.mark.parametrize(
    ("task", "labels", "message"),
    [
        ("multiclass", ["a", None], r"multiclass labels must be a class .* got e.g. \[(None|nan)\]"),
        ("multiclass", [1.0, 1.5], r"got e.g. \[1.5\]"),
        ("regression", [1.0, "high"], r"regression labels must be a finite number, got e.g. \['high'\]"),
    ],
)
def test_labels_that_do_not_fit_the_task_are_refused(tmp_path: Path, task: str, labels: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        record_labels(tmp_path, pd.DataFrame({"request_id": ["a", "b"], "label": labels}), task=task)
    assert not list(tmp_path.glob("*.jsonl"))


def test_no_labels_folder_means_no_labels(tmp_path: Path) -> None:
    assert read_labels(tmp_path / "absent").empty
    assert join_labels(pd.DataFrame({"request_id": ["a"], "record": [0]}), read_labels(tmp_path))["actual"].isna().all()
