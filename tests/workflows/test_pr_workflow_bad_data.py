"""pr.yml under act: corrupted data from a fork fails the data check; the summary names the column."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support import records
from workflows.act_harness import act_missing, retried_if_act_failed, skip_under_act
from workflows.pr_scenarios import act, corrupt_data, open_pull_request

pytestmark = [pytest.mark.slow, skip_under_act(), act_missing(), retried_if_act_failed()]


def test_corrupted_data_from_a_fork_fails_the_data_check_and_the_summary_names_the_column(tmp_path: Path) -> None:
    """The report still says what failed, and goes out as the `report` artifact (pr-comment.yml posts it)."""
    repo = open_pull_request(tmp_path, corrupt_data, "New data (with a bad age column)")
    record = tmp_path / "record"
    result = act(repo, record, head_repository="stranger/slipway")

    assert result.returncode != 0
    assert result.job_results["pipeline"] == "failure", result.describe()
    steps = result.step_results("pipeline")
    assert steps["Data checks (the validate stage)"] == "failure"
    pipeline_step = "The pipeline (unchanged stages restored from the DVC remote, the rest run)"
    assert steps.get(pipeline_step, "skipped") == "skipped"
    assert result.job_results["report"] == "success", result.describe()
    assert "column 'age'" in result.output("pipeline")

    assert records(record, "cml") == [] and records(record, "setup-cml") == []
    report = (record / "artifacts" / "report" / "report.md").read_text()
    assert "**Data checks** ❌ failed" in report
    assert "**Gate** ⏸️ not run (the pipeline did not run: train job skipped)" in report
    assert "**Schema checks**: FAILED" in report
    assert re.search(r"\| `age` \| .*in_range.* \| 25 \|", report), report
    assert "No metrics for this PR" in report
    assert result.summaries["report"].strip() == report.strip()
