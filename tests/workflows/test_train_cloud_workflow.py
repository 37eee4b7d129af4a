"""train-cloud.yml executed with act: it trains on GitHub's runner when no cloud is configured, and asks cml for a
cloud runner (a recording stand-in) when one is. (slow; needs the act harness in tests/workflows/act_harness.py)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import fresh_clone, records

act_harness = pytest.importorskip("workflows.act_harness", reason="tests/workflows/act_harness.py is not here yet")
pytestmark = [
    pytest.mark.slow,
    act_harness.skip_under_act(),
    act_harness.act_missing(),
    act_harness.retried_if_act_failed(),
]

WORKFLOW = ".github/workflows/train-cloud.yml"
CML_RUNNER_STANDIN = Path(__file__).resolve().parent / "standins" / "setup-cml-runner"
DISPATCH = {"inputs": {"cloud_type": ""}}


def test_without_a_cloud_it_trains_on_githubs_runner(tmp_path):
    repo = fresh_clone(tmp_path / "repo")
    record = tmp_path / "record"
    run = act_harness.run_workflow(repo, WORKFLOW, "workflow_dispatch", DISPATCH, record_dir=record)
    assert run.job_results == {"launch": "success", "train": "success"}, run.describe()
    assert "CML_CLOUD is not set: training runs on GitHub's runner" in run.output("launch")
    assert not (record / "cml-runner.jsonl").exists()
    trained = record / "artifacts" / "trained-model"
    assert (trained / "model" / "model.skops").is_file() and (trained / "metrics.json").is_file()
    assert "roc_auc" in json.loads((trained / "metrics.json").read_text())


def test_with_a_cloud_configured_it_launches_a_runner(tmp_path):
    repo = fresh_clone(tmp_path / "repo")
    record = tmp_path / "record"
    run = act_harness.run_workflow(
        repo,
        WORKFLOW,
        "workflow_dispatch",
        {"inputs": {"cloud_type": "m5.2xlarge"}},
        record_dir=record,
        job="launch",
        variables={"CML_CLOUD": "aws", "CML_CLOUD_REGION": "eu-west"},
        secrets={
            "CML_RUNNER_TOKEN": "runner-token-for-the-test",
            "AWS_ACCESS_KEY_ID": "aws-key-id-for-the-test",
            "AWS_SECRET_ACCESS_KEY": "aws-secret-for-the-test",
        },
        standins={"iterative/setup-cml": CML_RUNNER_STANDIN},
    )
    assert run.job_results == {"launch": "success"}, run.describe()
    (call,) = records(record, "cml-runner")
    assert call["args"] == [
        "runner",
        "launch",
        "--cloud=aws",
        "--labels=slipway-cloud",
        "--single",
        "--idle-timeout=600",
        "--cloud-region=eu-west",
        "--cloud-type=m5.2xlarge",
    ]
    assert call["credentials"] == ["REPO_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
    assert "for-the-test" not in run.output()
