"""pr.yml under act: corrupted data from a fork fails the data check; the summary names the column."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support import records
from workflows.act_harness import act_missing, skip_under_act
from workflows.pr_scenarios import act, corrupt_data, open_pull_request

pytestmark = [pytest.mark.slow, skip_under_act(), act_missing()]


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
    assert "**Gate** ⏸️ not run (the pipeline did not run: train job skipped)" in report
    assert "**Schema checks**: FAILED" in report
    assert re.search(r"\| `age` \| .*in_range.* \| 25 \|", report), report
    assert "No metrics for this PR" in report
    assert result.summaries["report"].strip() == report.strip()
