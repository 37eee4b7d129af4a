"""`slipway ingest` and `slipway fetch-logs` on local sources (the same `dvc get-url` path as s3://, gs://...)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from support.demo import demo_params
from typer.testing import CliRunner

from slipway.cli.app import app
from slipway.data.generator import ChurnSettings, generate_churn

pytestmark = pytest.mark.slow  # starts processes or servers


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    raw = demo_params()
    raw["retrain"].update(max_rows=250, demo_rows=100)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    (tmp_path / "data").mkdir()
    generate_churn(ChurnSettings(rows=200, seed=1)).to_csv(tmp_path / "data" / "churn.csv", index=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_ingest_a_table_from_a_url_appends_and_keeps_the_newest_rows(project: Path) -> None:
    batch = project / "incoming" / "batch.parquet"
    batch.parent.mkdir()
    generate_churn(ChurnSettings(rows=120, seed=2, id_offset=200)).to_parquet(batch)
    result = CliRunner().invoke(app, ["ingest", "--source", str(batch)])
    assert result.exit_code == 0, result.output
    data = (project / "data" / "churn.csv").read_text().splitlines()
    assert len(data) == 1 + 250  # 200 + 120, capped at retrain.max_rows
    assert data[-1].startswith("C00000319")
    summary = json.loads((project / "outputs/retrain/ingest.json").read_text())
    assert summary | {"source": ""} == {
        "source": "",
        "rows_before": 200,
        "rows_new": 120,
        "rows_after": 250,
        "mode": "append",
        "shift": {},
    }


def test_ingest_demo_generates_the_next_period(project: Path) -> None:
    result = CliRunner().invoke(app, ["ingest"], env={"INGEST_SOURCE": "demo", "INGEST_SHIFT": '{"age": 1.0}'})
    assert result.exit_code == 0, result.output
    assert "ingested 100 rows from demo: 200 -> 250 rows" in result.output


def test_ingest_refuses_a_batch_without_the_target(project: Path) -> None:
    batch = project / "bad.csv"
    generate_churn(ChurnSettings(rows=10, seed=3)).drop(columns=["churned"]).to_csv(batch, index=False)
    result = CliRunner().invoke(app, ["ingest", "--source", str(batch)])
    assert result.exit_code == 1 and "churned" in result.output
    assert len((project / "data" / "churn.csv").read_text().splitlines()) == 201  # unchanged


def test_fetch_logs_copies_the_sources_into_the_configured_folders(project: Path) -> None:
    source = project / "bucket" / "predictions"
    source.mkdir(parents=True)
    (source / "predictions-2026-11-23.jsonl").write_text("{}\n")
    result = CliRunner().invoke(app, ["fetch-logs"], env={"PREDICTION_LOG_SOURCE": str(source), "LABELS_SOURCE": ""})
    assert result.exit_code == 0, result.output
    assert (project / "logs" / "predictions" / "predictions-2026-11-23.jsonl").read_text() == "{}\n"
    assert "no source given: using logs/labels" in result.output


def test_an_unreachable_source_is_a_clear_error(project: Path) -> None:
    result = CliRunner().invoke(app, ["ingest", "--source", str(project / "nowhere.csv")])
    assert result.exit_code == 1 and "cannot fetch" in result.output
    result = CliRunner().invoke(app, ["fetch-logs", "--predictions", str(project / "nowhere")])
    assert result.exit_code == 1 and "cannot fetch" in result.output


def test_a_failed_fetch_leaves_the_folder_it_would_replace_as_it_was(project: Path) -> None:
    kept = project / "logs" / "predictions" / "predictions-2026-11-22.jsonl"
    kept.parent.mkdir(parents=True)
    kept.write_text('{"request_id": "r1"}\n')
    result = CliRunner().invoke(app, ["fetch-logs", "--predictions", str(project / "nowhere")])
    assert result.exit_code == 1 and "cannot fetch" in result.output
    assert kept.read_text() == '{"request_id": "r1"}\n'
    assert sorted(path.name for path in kept.parent.parent.iterdir()) == ["predictions"]  # no partial copy left
