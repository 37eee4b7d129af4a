"""The validate stage in process on every corrupted table of the catalogue (tests/support/corruptions.py): it fails
with the column, check and value in its log and in the report it writes, and leaves the typed table that `prepare`
reads as it was. That a failure stops `dvc repro` before `prepare` is the pipeline's own test (test_bad_input)."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pandas as pd
import pytest
from support.corruptions import CORRUPTIONS, csv_bytes
from support.demo import demo_project

from slipway.config import Config, load_config
from slipway.pipeline.validate import validate

PREVIOUS_TABLE = b"the typed table of the last good run"


@pytest.fixture(scope="module")
def raw_table(churn_frame: pd.DataFrame) -> pd.DataFrame:
    """The demo rows as the stage reads them from the raw CSV file."""
    return pd.read_csv(io.BytesIO(csv_bytes(churn_frame)))


def _write_raw(config: Config, data: bytes) -> None:
    raw = Path(config.data.path)
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_bytes(data)


@pytest.mark.parametrize("kind", list(CORRUPTIONS))
def test_a_corrupted_table_fails_the_stage_with_a_report_naming_what_is_wrong(
    kind: str,
    raw_table: pd.DataFrame,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.chdir(demo_project(tmp_path))
    config = load_config("params.yaml")
    corrupt, expected = CORRUPTIONS[kind]
    _write_raw(config, corrupt(raw_table.copy()))
    out, table = tmp_path / "validation", tmp_path / "validated" / "table.parquet"
    table.parent.mkdir()
    table.write_bytes(PREVIOUS_TABLE)

    with caplog.at_level(logging.ERROR, logger="validate"):
        code = validate(config, out=out, table=table)

    assert code == 1
    report = (out / "report.md").read_text()
    for word in expected:
        assert word in caplog.text, f"{word!r} not in the stage's log:\n{caplog.text}"
        assert word in report, f"{word!r} not in the written report:\n{report}"
    assert table.read_bytes() == PREVIOUS_TABLE


def test_the_demo_table_passes_and_the_typed_table_is_written(
    raw_table: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The catalogue's tables fail because of their corruption, not the rows they start from."""
    monkeypatch.chdir(demo_project(tmp_path))
    config = load_config("params.yaml")
    _write_raw(config, csv_bytes(raw_table))
    out, table = tmp_path / "validation", tmp_path / "validated" / "table.parquet"

    assert validate(config, out=out, table=table) == 0
    assert len(pd.read_parquet(table)) == len(raw_table)
    assert "every schema check passed" in (out / "report.md").read_text()
