"""monitor.yml and retrain.yml executed with act, against a recording `gh` stand-in on PATH.

A drifted window opens one issue and dispatches retraining once; a second drifted run updates that issue
instead of opening another; a healthy window does neither. The retraining workflow ends with one new branch
(on a local bare "origin") whose commit changes data.dvc, and one PR creation request explaining why.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from support import fresh_clone, gh_calls, git_clone, project_env, run
from support.monitor_data import shifted_period, write_log
from workflows.act_harness import GH, act_missing, retried_if_act_failed, run_workflow, skip_under_act

from slipway.data.generator import ChurnSettings, generate_churn

pytestmark = [pytest.mark.slow, skip_under_act(), act_missing(), retried_if_act_failed()]

ROWS = 1500


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One fresh clone, reused read-only as the source of each run's copy."""
    return fresh_clone(tmp_path_factory.mktemp("source") / "repo")


def _log(tmp_path: Path, frame, model, config) -> Path:
    folder = tmp_path / "prediction-log"
    write_log(folder, frame, model, config, end=datetime.now(UTC))
    return folder


def _monitor(repo: Path, workdir: Path, log_dir: Path, state: Path, record: Path):
    clone = git_clone(repo, workdir)
    return run_workflow(
        clone,
        ".github/workflows/monitor.yml",
        "workflow_dispatch",
        {"inputs": {}, "ref": "refs/heads/main", "repository": {"full_name": "example/slipway"}},
        record_dir=record,
        variables={"PREDICTION_LOG_SOURCE": str(log_dir)},
        env={"GH_STANDIN_STATE": str(state)},
        tools=(GH,),
    )


def test_drifted_window_opens_one_issue_and_dispatches_retraining_then_updates_it(
    repo, tmp_path, monitor_model, config
) -> None:
    log_dir = _log(tmp_path, shifted_period(ROWS, 21), monitor_model, config)
    state = tmp_path / "gh-state.json"

    first = _monitor(repo, tmp_path / "run1", log_dir, state, tmp_path / "record1")
    assert first.job_results == {"monitor": "success"}, first.describe()
    calls = gh_calls(tmp_path / "record1")
    creates = [c for c in calls if c[:2] == ["issue", "create"]]
    dispatches = [c for c in calls if c[:2] == ["workflow", "run"]]
    assert len(creates) == 1 and len(dispatches) == 1, calls
    assert not [c for c in calls if c[:2] in (["issue", "edit"], ["issue", "comment"])]
    body = creates[0][creates[0].index("--body") + 1]
    assert "Drift" in body and "`age`" in body
    assert dispatches[0][2] == "retrain.yml" and "trigger=monitor" in dispatches[0]
    assert any(arg.startswith("reason=status: drift") for arg in dispatches[0])
    assert (tmp_path / "record1" / "artifacts" / "monitoring-report" / "report.md").exists()

    second = _monitor(repo, tmp_path / "run2", log_dir, state, tmp_path / "record2")
    assert second.job_results == {"monitor": "success"}, second.describe()
    calls = gh_calls(tmp_path / "record2")
    assert not [c for c in calls if c[:2] == ["issue", "create"]], calls
    assert [c[:3] for c in calls if c[:2] == ["issue", "edit"]] == [["issue", "edit", "1"]]
    assert len([c for c in calls if c[:2] == ["issue", "comment"]]) == 1
    assert len([c for c in calls if c[:2] == ["workflow", "run"]]) == 1
    issues = json.loads(state.read_text())["issues"]
    assert len(issues) == 1 and issues[0]["state"] == "open"


def test_healthy_window_neither_alerts_nor_retrains(repo, tmp_path, monitor_model, config) -> None:
    frame = generate_churn(ChurnSettings(rows=ROWS, seed=22, id_offset=5_000_000))
    log_dir = _log(tmp_path, frame, monitor_model, config)
    result = _monitor(repo, tmp_path / "run", log_dir, tmp_path / "state.json", tmp_path / "record")
    assert result.job_results == {"monitor": "success"}, result.describe()
    assert result.step_results("monitor").get("Alert and dispatch retraining") in (None, "skipped")
    assert gh_calls(tmp_path / "record") == []
    assert "Healthy" in result.summaries.get("monitor", "")


def test_retrain_opens_one_branch_with_new_data_and_one_pr(repo, tmp_path) -> None:
    origin = tmp_path / "origin.git"
    env = project_env(tmp_path)
    git_clone(repo, origin, "--bare")
    clone = git_clone(origin, tmp_path / "work")
    before = (clone / "data.dvc").read_text()
    event = {
        "inputs": {
            "trigger": "monitor",
            "reason": "status: drift; drifted: age",
            "issue": "1",
            "source": "demo",
            "shift": '{"age": 0.5}',
        },
        "ref": "refs/heads/main",
        "repository": {"full_name": "example/slipway"},
    }
    result = run_workflow(
        clone, ".github/workflows/retrain.yml", "workflow_dispatch", event, record_dir=tmp_path / "record", tools=(GH,)
    )
    assert result.job_results == {"retrain": "success"}, result.describe()

    branches = run(["git", "branch", "--format=%(refname:short)"], origin, env=env).stdout.split()
    new = [b for b in branches if b != "main"]
    assert len(new) == 1 and new[0].startswith("retrain/"), branches
    changed = run(["git", "diff", "--name-only", "main", new[0]], origin, env=env).stdout.split()
    assert "data.dvc" in changed
    after = run(["git", "show", f"{new[0]}:data.dvc"], origin, env=env).stdout
    assert yaml.safe_load(after)["outs"][0]["md5"] != yaml.safe_load(before)["outs"][0]["md5"]
    assert any(path.startswith("dvc-storage/") for path in changed)  # the embedded remote got the new data

    calls = gh_calls(tmp_path / "record")
    prs = [c for c in calls if c[:2] == ["pr", "create"]]
    assert len(prs) == 1, calls
    body = prs[0][prs[0].index("--body") + 1]
    assert "`monitor`" in body and "monitoring issue #1" in body and "drifted: age" in body
    assert "10,000 new rows" in body
    assert prs[0][prs[0].index("--head") + 1] == new[0]
