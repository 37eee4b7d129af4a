"""pr.yml executed with act on a fresh clone: a pull request trains, checks and comments its own report.

Three pull requests against the clone's main:
- a params change that keeps the model as good: every job passes, the recording cml receives the report with its
  metrics table and images;
- corrupted data from a fork: the data check fails, the job summary names the column, no comment is posted;
- params that make the model clearly worse: the gate fails and says which metric fell by how much.

The tests job runs a small part of the fast suite here (repository variable PR_PYTEST_ARGS); the whole suite is
what `make test` itself runs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import yaml
from support import fresh_clone, project_env, run
from workflows.act_harness import ActRun, act_missing, pull_request_event, run_workflow, skip_under_act

pytestmark = [pytest.mark.slow, skip_under_act(), act_missing()]

WORKFLOW = ".github/workflows/pr.yml"
WATERMARK = "--watermark-title=Slipway model report"
TESTS_IN_ACT = "-p no:cacheprovider tests/test_gate.py"


def open_pull_request(tmp_path: Path, change: Callable[[Path], None], message: str) -> Path:
    """A fresh clone with main as the base and a `feature` branch holding ``change``, checked out."""
    repo = fresh_clone(tmp_path / "repo")
    env = project_env(repo)
    run(["git", "checkout", "-q", "-b", "feature"], repo, env=env)
    change(repo)
    run(["git", "add", "-A"], repo, env=env)
    run(["git", "commit", "-q", "-m", message], repo, env=env)
    return repo


def set_params(**changes: object) -> Callable[[Path], None]:
    """Edit params.yaml by dotted keys, e.g. set_params(**{"train.logreg.C": 0.3})."""

    def change(repo: Path) -> None:
        params = yaml.safe_load((repo / "params.yaml").read_text())
        for key, value in changes.items():
            *parents, leaf = key.split(".")
            node = params
            for part in parents:
                node = node[part]
            node[leaf] = value
        (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))

    return change


def corrupt_data(repo: Path) -> None:
    """Ages out of range in 25 rows, committed the DVC way (dvc add + push to the embedded remote)."""
    env = project_env(repo)
    run(["dvc", "pull", "-q", "data.dvc"], repo, env=env)
    path = repo / "data" / "churn.csv"
    table = pd.read_csv(path)
    table.loc[:24, "age"] = 250
    table.to_csv(path, index=False)
    run(["dvc", "add", "-q", "data"], repo, env=env)
    run(["dvc", "push", "-q", "data.dvc"], repo, env=env)


def act(repo: Path, record: Path, head_repository: str | None = None) -> ActRun:
    event = pull_request_event(number=7, base="main", head="feature", head_repository=head_repository)
    return run_workflow(
        repo, WORKFLOW, "pull_request", event, record_dir=record, variables={"PR_PYTEST_ARGS": TESTS_IN_ACT}
    )


def records(record: Path, name: str) -> list[dict]:
    path = record / f"{name}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def posted_report(record: Path) -> tuple[dict, str]:
    """The one comment the recording cml received, and its markdown."""
    calls = records(record, "cml")
    assert len(calls) == 1, calls
    return calls[0], (Path(calls[0]["saved"]) / "report.md").read_text()


def test_a_params_change_trains_checks_and_comments_its_report(tmp_path: Path) -> None:
    repo = open_pull_request(tmp_path, set_params(**{"train.logreg.C": 0.3}), "Try C=0.3")
    record = tmp_path / "record"
    result = act(repo, record)
    print(f"PR workflow under act: {result.seconds:.1f} s")

    assert result.returncode == 0, result.describe()
    assert result.job_results == {"tests": "success", "data": "success", "train": "success", "report": "success"}

    call, report = posted_report(record)
    assert call["command"] == "update" and WATERMARK in call["options"] and "--target=pr" in call["options"]
    assert "**Tests** ✅ passed · **Data checks** ✅ passed · **Gate** ✅ passed" in report
    assert "| `train.logreg.C` | 1.0000 | 0.3000 |" in report
    metrics = json.loads((record / "artifacts" / "pipeline-outputs" / "metrics.json").read_text())
    base = json.loads((repo / "outputs" / "metrics.json").read_text())  # main's committed metrics
    for name in ("roc_auc", "log_loss", "f1"):
        row = f"| `{name}` | {base[name]:.4f} | {metrics[name]:.4f} | {metrics[name] - base[name]:+.4f} |"
        assert row in report
    assert sorted(call["images"]) == sorted(
        ["roc.png", "precision_recall.png", "confusion.png", "calibration.png", "importance.png", "drift.png"]
    )
    for image in call["images"]:  # the stand-in copied each linked image: they exist and are PNGs
        assert (Path(call["saved"]) / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Drift vs the base's data" in report and "none." in report
    assert "### Model card" in report and "`C=0.3`" in report

    # The same markdown is in the job summary (what a fork's PR shows), and the other stand-ins were asked.
    assert result.summaries["report"].strip() == report.strip()
    assert {r["job"] for r in records(record, "setup-python")} == {"tests", "data", "train", "report"}
    assert {(r["job"], r["enable-cache"]) for r in records(record, "setup-uv")} >= {("train", "true")}
    (dvc_cache,) = records(record, "cache")
    assert dvc_cache["path"] == ".dvc/cache" and dvc_cache["key"].startswith("dvc-Linux-")
    assert {r["name"] for r in records(record, "upload-artifact")} == {"validation", "pipeline-outputs", "report"}
    assert "gate PASSED" in result.output("report")


def test_corrupted_data_from_a_fork_fails_the_data_check_and_the_summary_names_the_column(tmp_path: Path) -> None:
    """Also the fork case: no comment is posted (a fork's token is read-only), the job summary has the report."""
    repo = open_pull_request(tmp_path, corrupt_data, "New data (with a bad age column)")
    record = tmp_path / "record"
    result = act(repo, record, head_repository="stranger/slipway")

    assert result.returncode != 0
    assert result.job_results["data"] == "failure", result.describe()
    assert "train" not in result.job_results or result.job_results["train"] == "skipped"
    assert result.job_results["report"] == "success", result.describe()
    assert "column 'age'" in result.output("data")

    assert records(record, "cml") == [] and records(record, "setup-cml") == []
    assert "not posting the PR comment: pull request from a fork (stranger/slipway)" in result.output("report")
    report = (record / "artifacts" / "report" / "report.md").read_text()
    assert "**Data checks** ❌ failed" in report
    assert "**Gate** ⏸️ not run (the pipeline did not run (train job: skipped))" in report
    assert "**Schema checks**: FAILED" in report
    assert re.search(r"\| `age` \| .*in_range.* \| 25 \|", report), report
    assert "No metrics for this PR" in report
    assert result.summaries["report"].strip() == report.strip()


def test_a_clearly_worse_model_fails_the_gate_saying_which_metric_fell(tmp_path: Path) -> None:
    repo = open_pull_request(tmp_path, set_params(**{"train.logreg.C": 0.00001}), "Regularise hard")
    record = tmp_path / "record"
    result = act(repo, record)

    assert result.returncode != 0
    expected = {"tests": "success", "data": "success", "train": "success", "report": "failure"}
    assert result.job_results == expected, result.describe()
    steps = result.step_results("report")
    assert steps["make comment"] == "success" and steps["Quality gate (fails the check when the model got worse)"] == (
        "failure"
    )

    metrics = json.loads((record / "artifacts" / "pipeline-outputs" / "metrics.json").read_text())
    base = json.loads((repo / "outputs" / "metrics.json").read_text())
    drop = base["f1"] - metrics["f1"]
    assert drop > 0.3  # clearly worse: nearly nobody is predicted to churn any more
    message = f"f1 fell by {drop:.4f}"
    _, report = posted_report(record)
    assert "**Gate** ❌ failed: " in report and message in report
    assert f"| `f1` | {base['f1']:.4f} | {metrics['f1']:.4f} | {-drop:+.4f} |" in report
    assert "🔴 worse" in report
    assert "gate FAILED" in result.output("report") and message in result.output("report")
