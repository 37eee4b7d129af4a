"""`slipway monitor` end to end on real log files: verdicts, exit codes, the report, and broken inputs."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import yaml
from support.demo import DEMO_SCHEMA, demo_params
from support.monitor_data import SHIFTED, profile_of, reference_frame, shifted_period, write_log
from typer.testing import CliRunner

from slipway.cli.app import app
from slipway.data.generator import ChurnSettings, generate_churn
from slipway.monitoring.labels import record_labels
from slipway.monitoring.report import render_markdown
from slipway.monitoring.verdict import Status

ROWS = 1200


@pytest.fixture
def setup(tmp_path: Path, config) -> dict[str, Path]:
    """A params.yaml pointing at a scratch log, labels folder and reference profile."""
    raw = demo_params()
    raw["data"]["schema"] = str(DEMO_SCHEMA)
    paths = {
        "logs": tmp_path / "logs",
        "labels": tmp_path / "labels",
        "reference": tmp_path / "profile.json",
        "out": tmp_path / "report",
        "params": tmp_path / "params.yaml",
    }
    raw["monitor"].update(
        log_dir=str(paths["logs"]), labels_dir=str(paths["labels"]), reference=str(paths["reference"])
    )
    paths["params"].write_text(yaml.safe_dump(raw))
    paths["reference"].write_text(profile_of(config, reference_frame()).to_json())
    return paths


def _monitor(paths: dict[str, Path], *extra: str, env: dict[str, str] | None = None):
    args = ["monitor", "--params", str(paths["params"]), "--out", str(paths["out"]), *extra]
    return CliRunner().invoke(app, args, env=env or {}, catch_exceptions=False)


def _summary(paths: dict[str, Path]) -> dict:
    return json.loads((paths["out"] / "summary.json").read_text())


def test_healthy_window_exits_0(setup, config, monitor_model) -> None:
    write_log(setup["logs"], generate_churn(ChurnSettings(rows=ROWS, seed=11)), monitor_model, config)
    result = _monitor(setup)
    assert result.exit_code == 0, result.output
    assert _summary(setup)["status"] == "healthy"
    assert "Healthy" in (setup["out"] / "report.md").read_text()
    assert not list(setup["out"].glob("*.png"))


def test_drifted_window_exits_3_with_histograms_of_the_drifted_features(setup, config, monitor_model) -> None:
    write_log(setup["logs"], shifted_period(ROWS, 12), monitor_model, config)
    result = _monitor(setup)
    assert result.exit_code == Status.DRIFT.exit_code == 3, result.output
    summary = _summary(setup)
    assert set(summary["drifted"]) == SHIFTED
    pngs = sorted(p.name for p in setup["out"].glob("*.png"))
    assert pngs == sorted(f"drift-{name}.png" for name in SHIFTED)
    for png in setup["out"].glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5_000
    report = (setup["out"] / "report.md").read_text()
    for name in SHIFTED:
        assert f"![{name}](drift-{name}.png)" in report
    assert "![" not in (setup["out"] / "issue.md").read_text()  # the issue body links no local files


def test_kpi_breach_from_late_labels_exits_4(setup, config, monitor_model) -> None:
    frame = generate_churn(ChurnSettings(rows=ROWS, seed=13, concept_shift=0.8))
    truth = write_log(setup["logs"], frame, monitor_model, config)
    assert _monitor(setup).exit_code == 0  # no labels yet: nothing says the monitor_model is worse
    record_labels(setup["labels"], truth[["request_id", "label"]])
    result = _monitor(setup)
    assert result.exit_code == 4, result.output
    summary = _summary(setup)
    assert "roc_auc" in summary["breached"] and summary["labelled_rows"] == ROWS


def test_no_fail_on_alert_writes_github_outputs_and_exits_0(setup, config, monitor_model, tmp_path) -> None:
    write_log(setup["logs"], shifted_period(ROWS, 14), monitor_model, config)
    output, step_summary = tmp_path / "gh_output", tmp_path / "gh_summary"
    env = {"GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(step_summary)}
    result = _monitor(setup, "--no-fail-on-alert", env=env)
    assert result.exit_code == 0, result.output
    text = output.read_text()
    assert "status=drift\n" in text and "alert=true\n" in text
    assert "Drift per feature" in step_summary.read_text()


def test_empty_log_is_inconclusive_exit_6(setup) -> None:
    result = _monitor(setup)
    assert result.exit_code == 6
    assert "does not exist" in result.output and "only 0 predictions" in result.output


def test_old_predictions_fall_out_of_the_window(setup, config, monitor_model) -> None:
    old = datetime.now(UTC) - timedelta(days=30)
    write_log(setup["logs"], shifted_period(ROWS, 15), monitor_model, config, end=old)
    result = _monitor(setup)
    assert result.exit_code == 6, result.output


def test_malformed_log_lines_are_reported_not_fatal(setup, config, monitor_model) -> None:
    write_log(setup["logs"], generate_churn(ChurnSettings(rows=ROWS, seed=16)), monitor_model, config)
    day_file = sorted(setup["logs"].glob("predictions-*.jsonl"))[-1]
    with day_file.open("a") as handle:
        handle.write('{"truncated": \n[1, 2, 3]\n{"v": 1, "inputs": "not a mapping"}\n\n')
    result = _monitor(setup)
    assert result.exit_code == 0, result.output
    assert "3 malformed prediction log lines skipped" in result.output
    assert "3 malformed prediction log lines skipped" in (setup["out"] / "report.md").read_text()


def test_a_log_of_only_garbage_is_inconclusive(setup) -> None:
    setup["logs"].mkdir()
    (setup["logs"] / f"predictions-{datetime.now(UTC).date()}.jsonl").write_text("garbage\n" * 500)
    result = _monitor(setup)
    assert result.exit_code == 6
    assert "500 malformed prediction log lines skipped" in result.output


def test_missing_reference_profile_is_an_error_not_a_verdict(setup) -> None:
    setup["reference"].unlink()
    result = _monitor(setup)
    assert result.exit_code == 1
    assert "reference profile not found" in result.output


def test_reference_profile_verb_writes_a_loadable_profile(setup, tmp_path) -> None:
    table = tmp_path / "train.parquet"
    reference_frame(2000).to_parquet(table)
    out = tmp_path / "new-profile.json"
    args = ["reference-profile", str(table), "--out", str(out), "--params", str(setup["params"])]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["rows"] == 2000


def test_record_labels_verb(setup, tmp_path) -> None:
    table = tmp_path / "labels.csv"
    pd.DataFrame({"request_id": ["a", "b"], "label": [0, 1]}).to_csv(table, index=False)
    args = ["record-labels", str(table), "--params", str(setup["params"])]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert len(next(setup["labels"].glob("labels-*.jsonl")).read_text().splitlines()) == 2
    pd.DataFrame({"request_id": ["a"], "label": [7]}).to_csv(table, index=False)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1 and "0 or 1" in result.output


def test_markdown_names_the_verdict_every_feature_and_each_kpi_with_its_interval(config, monitor_model) -> None:
    from slipway.monitoring.verdict import judge

    windows = []
    for seed in (17, 18, 19):
        frame = shifted_period(ROWS // 3, seed)
        scores = monitor_model.predict_proba(frame[config.features.all])[:, 1]
        windows.append(frame.assign(prediction=scores, actual=frame[config.data.target].astype(float)))
    result = judge(profile_of(config, reference_frame()), windows, config.monitor, 0.5, config.drift)
    text = render_markdown(result, images=False, run_url="https://example.invalid/run/1")
    assert text.startswith("## Model monitoring: ⚠️ Drift")
    assert "https://example.invalid/run/1" in text
    for name in config.features.all:
        assert f"`{name}`" in text
    assert "in 2 of them (`monitor.alert`)" in text
    for kpi in result.latest.kpis:
        assert kpi.interval is not None
        assert (
            f"| {kpi.name} | " in text and f"{kpi.value:.3f} [{kpi.interval.low:.3f}, {kpi.interval.high:.3f}]" in text
        )


@pytest.mark.slow
def test_the_monitor_imports_neither_scikit_learn_nor_the_server(setup, config, monitor_model) -> None:
    write_log(setup["logs"], generate_churn(ChurnSettings(rows=ROWS, seed=20)), monitor_model, config)
    script = (
        "import sys\n"
        "from slipway.cli.app import app\n"
        f"try:\n    app(['monitor', '--params', {str(setup['params'])!r}, '--out', {str(setup['out'])!r}])\n"
        "except SystemExit as stop:\n    print('exit', stop.code)\n"
        "print('loaded', sorted(m for m in ('sklearn', 'skops', 'fastapi', 'matplotlib') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert "exit 0" in out and "loaded []" in out, out


def test_params_with_the_old_drift_keys_fail_in_one_message_naming_the_new_ones(setup) -> None:
    raw = yaml.safe_load(setup["params"].read_text())
    raw["monitor"]["psi_threshold"] = 0.25  # where it was before the drift: section held every threshold
    setup["params"].write_text(yaml.safe_dump(raw))
    command = [sys.executable, "-m", "slipway.cli", "monitor", "--params", str(setup["params"])]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert "monitor.psi_threshold -> drift.psi_threshold" in done.stderr and "Traceback" not in done.stderr
