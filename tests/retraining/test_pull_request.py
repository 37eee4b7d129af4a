"""Continuous training helpers: combining periods, the demo's next period, the PR text, the git/DVC steps."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
import yaml
from support import project_env, run

from slipway.config import RetrainConfig
from slipway.data.generator import ChurnSettings, generate_churn
from slipway.retraining.ingest import IngestError, IngestSummary, combine, next_demo_period
from slipway.retraining.pull_request import branch_name, open_retrain_pr, pr_body


def test_append_keeps_the_newest_rows_and_replace_replaces() -> None:
    old = generate_churn(ChurnSettings(rows=30, seed=1))
    new = generate_churn(ChurnSettings(rows=20, seed=2, id_offset=30))
    appended = combine(old, new, RetrainConfig(mode="append", max_rows=40))
    assert len(appended) == 40 and appended["customer_id"].iloc[-1] == new["customer_id"].iloc[-1]
    assert appended["customer_id"].iloc[0] == old["customer_id"].iloc[10]
    assert combine(old, new, RetrainConfig(mode="replace")).equals(new)


def test_combine_refuses_empty_or_incomplete_periods() -> None:
    old = generate_churn(ChurnSettings(rows=5, seed=1))
    with pytest.raises(ValueError, match="no rows"):
        combine(old, old.iloc[:0], RetrainConfig())
    with pytest.raises(ValueError, match="churned"):
        combine(old, old.drop(columns=["churned"]), RetrainConfig())


def test_next_demo_period_continues_the_ids(config) -> None:
    current = generate_churn(ChurnSettings(rows=100, seed=1))
    period = next_demo_period(current, config, {"age": 0.5})
    assert period["customer_id"].iloc[0] == "C00000100"
    assert len(period) == config.retrain.demo_rows
    assert not set(period["customer_id"]) & set(current["customer_id"])


def test_branch_names_are_valid_refs() -> None:
    when = datetime(2026, 11, 23, 18, 15, tzinfo=UTC)
    assert branch_name("retrain/", when) == "retrain/20261123-181500"
    assert branch_name("retrain/", when, "run 42/x") == "retrain/20261123-181500-run-42-x"


def test_pr_body_says_why() -> None:
    summary = IngestSummary("demo", 10_000, 10_000, 20_000, "append", {"age": 0.5})
    body = pr_body("monitor", "status: drift; drifted: age", summary, issue="3", run_url="https://x.invalid/run")
    assert "`monitor`" in body and "monitoring issue #3" in body
    assert "> status: drift; drifted: age" in body and "Closes #3" in body
    assert "10,000 new rows (append): 10,000 -> 20,000 rows" in body and "https://x.invalid/run" in body


@pytest.mark.slow
def test_open_retrain_pr_commits_data_dvc_and_the_embedded_remote(pulled_clone: Path) -> None:
    repo = pulled_clone
    env = project_env(repo)
    before = yaml.safe_load((repo / "data.dvc").read_text())["outs"][0]["md5"]
    data = pd.read_csv(repo / "data" / "churn.csv")
    data.iloc[:100].to_csv(repo / "data" / "churn.csv", index=False)

    def runner(command):
        return run(list(command), repo, env=env).stdout

    done = open_retrain_pr(repo, "retrain/test", "Retrain", "body", push=False, runner=runner)
    assert done["branch"] == "retrain/test" and "pull_request" not in done
    files = run(["git", "show", "--name-only", "--format=", "HEAD"], repo, env=env).stdout.split()
    assert "data.dvc" in files and any(f.startswith("dvc-storage/files/md5/") for f in files)
    assert yaml.safe_load((repo / "data.dvc").read_text())["outs"][0]["md5"] != before
    with pytest.raises(IngestError, match="did not change"):  # nothing new the second time: refused, no branch
        open_retrain_pr(repo, "retrain/again", "Retrain", "body", push=False, runner=runner)
    assert "retrain/again" not in run(["git", "branch"], repo, env=env).stdout
