"""`slipway adopt` on tables the project has never seen, then the whole pipeline, in fresh clones, then the
pull-request report and gate against the demo on main, then serving: `slipway serve` on loopback passes
`slipway smoke` and answers held-out rows as the trained model does. (slow)

The tables are built here from data sets that ship with scikit-learn, with categorical columns and missing
values added, a few hundred rows each: binary (text labels, id and time columns, CSV), multiclass (integer
labels, Parquet) and regression (CSV).
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.datasets import load_diabetes, load_wine
from sklearn.metrics import roc_auc_score
from support import copy_clone, free_port, run, start_server, stop_server, tree_digest
from support.tables import cancer_table
from typer.testing import CliRunner

from slipway.artifact.persistence import load_model
from slipway.cli.app import app
from slipway.config import TASK_KPIS

pytestmark = pytest.mark.slow


def _wine() -> pd.DataFrame:
    rng = np.random.default_rng(2)
    frame = load_wine(as_frame=True).frame
    frame = frame[["alcohol", "malic_acid", "flavanoids", "color_intensity", "proline", "target"]].copy()
    frame["cellar"] = rng.choice(["north", "south"], len(frame))
    frame.loc[rng.choice(len(frame), 12, replace=False), "malic_acid"] = np.nan
    return frame.rename(columns={"target": "cultivar"})


def _diabetes(rows: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    frame = load_diabetes(as_frame=True, scaled=False).frame.head(rows).copy()
    frame["sex"] = np.where(frame["sex"] == 1, "female", "male")
    frame["site"] = rng.choice(["a", "b", "c", "d"], rows)
    frame.loc[rng.choice(rows, 25, replace=False), "bmi"] = np.nan
    return frame.rename(columns={"target": "progression"})


CASES = {
    "binary": (
        lambda: cancer_table(seen_at=True, missing=True),
        "cancer.csv",
        ["--target", "diagnosis", "--id", "case_id", "--time", "seen_at"],
        {"roc_auc", "pr_auc", "f1", "precision", "recall", "accuracy", "log_loss", "brier"},
        {"roc.json", "precision_recall.json", "confusion.json", "calibration.json", "importance.json"},
    ),
    "multiclass": (
        _wine,
        "wine.parquet",
        ["--target", "cultivar"],
        {"accuracy", "f1_macro", "f1_weighted", "log_loss", "roc_auc_ovr"},
        {"confusion.json", "importance.json"},
    ),
    "regression": (
        _diabetes,
        "diabetes.csv",
        ["--target", "progression", "--task", "auto"],
        {"rmse", "mae", "r2", "mape"},
        {"predicted_vs_actual.json", "residuals.json", "importance.json"},
    ),
}


def _write(frame: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("task", list(CASES))
def test_adopt_then_the_whole_pipeline_runs(pulled_clone, tmp_path, task):
    build, name, args, metric_names, plot_files = CASES[task]
    table = _write(build(), tmp_path / name)
    repo = pulled_clone

    adopted = run(["slipway", "adopt", str(table), *args], repo)
    assert f"task: {task}" in adopted.stdout and "review before you commit" in adopted.stdout
    assert "monitor.kpis" in adopted.stdout and "trivial baseline" in adopted.stdout
    assert sorted(p.name for p in (repo / "data").iterdir()) == [name]
    params = yaml.safe_load((repo / "params.yaml").read_text())
    assert params["data"]["task"] == task and params["data"]["path"] == f"data/{name}"
    staged = run(["git", "diff", "--cached", "--name-only"], repo).stdout.split()
    assert "data.dvc" in staged  # dvc add ran (autostage)

    run(["slipway", "repro"], repo)
    metrics = json.loads((repo / "outputs/metrics.json").read_text())
    assert set(metrics) == metric_names
    assert {p.name for p in (repo / "outputs/plots").iterdir()} == plot_files
    headline = {"binary": "roc_auc", "multiclass": "accuracy", "regression": "r2"}[task]
    assert metrics[headline] > {"binary": 0.85, "multiclass": 0.8, "regression": 0.2}[task]
    assert "passed" in (repo / "outputs/validation/report.md").read_text()
    shown = run(["dvc", "plots", "show", "--json"], repo).stdout
    assert not json.loads(shown).get("errors"), "dvc.yaml declares plot files the task does not write"
    assert run(["dvc", "status", "--json"], repo).stdout.strip() == "{}"

    # the pull request that adopts the table: report and gate against main (the demo), with the task's metrics
    reported = run(["slipway", "report", "--base", "main"], repo)
    assert "gate passed" in reported.stdout, reported.stdout
    report = (repo / "report/report.md").read_text()
    assert f"| `{headline}` |" in report
    for plot in plot_files:  # every chart the task writes is drawn in the report
        png = plot.replace(".json", ".png")
        assert f"]({png})" in report and (repo / "report" / png).stat().st_size > 2_000, png
    run(["slipway", "gate", "--base", "main"], repo)

    _serve_and_check(repo, task, params)


LOGGED_ROWS = 320  # above monitor.min_rows (300) and min_labels (200)


def _serve_and_check(repo: Path, task: str, params: dict) -> None:
    """Serve the trained model over HTTP: the smoke test passes, held-out rows get the model's own answers, and
    the monitor computes the task's KPIs from the prediction log and labels recorded afterwards."""
    features = [*params["features"]["numeric"], *params["features"]["categorical"]]
    target = params["data"]["target"]
    test = pd.read_parquet(repo / "outputs/prepared/test.parquet")
    rows = test.iloc[np.resize(np.arange(len(test)), LOGGED_ROWS)].reset_index(drop=True)
    records = json.loads(rows[features].to_json(orient="records"))
    model = load_model(repo / "outputs/model/model.skops")
    port = free_port()
    server = start_server(repo / "outputs/model", port, cwd=repo, SLIPWAY_PREDICTION_LOG=str(repo / "logs/predictions"))
    try:
        url = f"http://127.0.0.1:{port}"
        smoke = run(["slipway", "smoke", "--url", url, "--wait", "120"], repo, check=False)
        request = urllib.request.Request(
            f"{url}/predict", json.dumps({"records": records}).encode(), {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.loads(response.read())
    finally:
        output = stop_server(server)
    assert smoke.returncode == 0, smoke.stdout + output
    assert f"ok    predict: {task}:" in smoke.stdout, smoke.stdout
    predictions = answer["predictions"]
    truth = rows[target]
    if task == "regression":
        expected = model.predict(rows[features])
        got = np.array([p["value"] for p in predictions])
        assert np.max(np.abs(got - expected) / np.maximum(1, np.abs(expected))) <= 1e-5
        labels, kpi, expected_kpi = truth, "rmse", float(np.sqrt(np.mean((got - truth) ** 2)))
    else:
        classes = model.classes_.tolist()
        probabilities = model.predict_proba(rows[features])
        if task == "binary":
            got = np.array([p["probability"] for p in predictions])
            assert np.max(np.abs(got - probabilities[:, 1])) <= 1e-6
            assert {p["label"] for p in predictions} == {"benign", "malignant"}
            labels = (truth == classes[1]).astype(int)  # binary labels are recorded as 1 = the positive class
            kpi, expected_kpi = "roc_auc", roc_auc_score(labels, got)
        else:
            got = np.array([[p["probabilities"][str(c)] for c in classes] for p in predictions])
            assert np.max(np.abs(got - probabilities)) <= 1e-6
            served = [p["label"] for p in predictions]
            assert served == [classes[i] for i in probabilities.argmax(axis=1)]
            labels, kpi, expected_kpi = truth, "accuracy", float(np.mean(np.array(served) == truth.to_numpy()))

    # labels arrive later; the monitor joins them to the log and computes the task's KPIs
    pd.DataFrame({"request_id": answer["request_id"], "record": range(LOGGED_ROWS), "label": labels}).to_csv(
        repo / "labels.csv", index=False
    )
    run(["slipway", "record-labels", "labels.csv"], repo)
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["monitor"]["alert"] = {"windows": 1, "breaches": 1}  # one window of these few rows decides
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    monitored = run(["slipway", "monitor", "--no-fail-on-alert"], repo)
    summary = json.loads((repo / "outputs/monitoring/summary.json").read_text())
    logged = LOGGED_ROWS + 1  # the smoke test's example is logged too, and never labelled
    assert summary["rows"] == logged and summary["labelled_rows"] == LOGGED_ROWS, monitored.stdout
    (window,) = summary["windows"]
    kpis = {k["name"]: k["value"] for k in window["kpis"]}
    assert set(TASK_KPIS[task]) - {"positive_rate"} <= set(kpis), summary
    assert kpis[kpi] == pytest.approx(expected_kpi, abs=1e-5)


BAD_TABLES = {
    "missing target column": ("table.csv", lambda: _wine().to_csv(index=False).encode(), "target column 'label'"),
    "target with one class": (
        "table.csv",
        lambda: _wine().assign(label="same").to_csv(index=False).encode(),
        "single value",
    ),
    "empty table": ("table.csv", lambda: b"", "file is empty"),
    "header only": ("table.csv", lambda: b"alcohol,label\n", "no rows"),
    "unreadable file": ("table.parquet", lambda: b"PAR1 this is not parquet", "cannot be read"),
    "no such file": ("missing.csv", None, "file not found"),
}


@pytest.fixture(scope="module")
def unadopted(pulled_source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the pulled clone shared by the cases that must leave it as it was."""
    return copy_clone(pulled_source, tmp_path_factory.mktemp("bad-adopt") / "repo")


@pytest.mark.parametrize("case", list(BAD_TABLES))
def test_bad_input_is_refused_and_the_repository_is_left_as_it_was(unadopted, tmp_path, case):
    name, content, message = BAD_TABLES[case]
    table = tmp_path / name
    if content is not None:
        table.write_bytes(content())
    before = tree_digest(unadopted)
    result = CliRunner().invoke(app, ["adopt", str(table), "--target", "label", "--repo", str(unadopted)])
    assert result.exit_code == 1, result.output
    assert message in result.stderr and "nothing was changed" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert tree_digest(unadopted) == before


def test_the_command_line_reports_a_bad_table_without_a_traceback(unadopted, tmp_path):
    table = tmp_path / "table.csv"
    table.write_bytes(_wine().to_csv(index=False).encode())
    before = tree_digest(unadopted)
    result = run(["slipway", "adopt", str(table), "--target", "label"], unadopted, check=False)
    assert result.returncode == 1
    assert "target column 'label' is not in the table" in result.stderr and "Traceback" not in result.stderr
    assert tree_digest(unadopted) == before
