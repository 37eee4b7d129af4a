"""pr.yml under act: a clearly worse model fails the gate, which says which metric fell by how much."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from workflows.act_harness import act_missing, retried_if_act_failed, skip_under_act
from workflows.pr_scenarios import act, open_pull_request, set_params, uploaded_report

pytestmark = [pytest.mark.slow, skip_under_act(), act_missing(), retried_if_act_failed()]


def test_a_clearly_worse_model_fails_the_gate_saying_which_metric_fell(tmp_path: Path) -> None:
    repo = open_pull_request(tmp_path, set_params(**{"train.logreg.C": 0.00001}), "Regularise hard")
    record = tmp_path / "record"
    result = act(repo, record)

    assert result.returncode != 0
    expected = {"tests": "success", "pipeline": "success", "report": "failure"}
    assert result.job_results == expected, result.describe()
    steps = result.step_results("report")
    assert steps["The report for pr-comment.yml to post (markdown and PNGs)"] == "success"
    assert steps["Quality gate (fails the check when the model got worse)"] == "failure"

    metrics = json.loads((record / "artifacts" / "pipeline-outputs" / "metrics.json").read_text())
    base = json.loads((repo / "outputs" / "metrics.json").read_text())
    drop = base["f1"] - metrics["f1"]
    assert drop > 0.3  # clearly worse: nearly nobody is predicted to churn any more
    message = f"f1 fell by {drop:.4f}"
    report = uploaded_report(record)
    assert "**Gate** ❌ failed: " in report and message in report
    b, m, d = (re.escape(cell) for cell in (f"{base['f1']:.4f}", f"{metrics['f1']:.4f}", f"{-drop:+.4f}"))
    assert re.search(rf"\| `f1` \| {b}( ± \S+)? \| {m}( ± \S+)? \| {d}( \[[^]]+\])? \|", report)
    assert "🔴 worse" in report
    assert "gate FAILED" in result.output("report") and message in result.output("report")
