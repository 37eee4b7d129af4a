"""Report pieces: params and metrics diffs, delta markers, formatting, the status line and whole-report rendering."""

from __future__ import annotations

import re
from typing import Any

import pytest
from support import project_env, run

from slipway.config import DriftConfig, GateConfig
from slipway.data.drift import detect_drift
from slipway.data.validation import Failure, ValidationResult
from slipway.review.comment import comment_decision
from slipway.review.gate import evaluate_gate
from slipway.review.report import (
    ParamChange,
    ReportInputs,
    Status,
    compare_metrics,
    diff_params,
    flatten,
    format_delta,
    format_relative,
    format_value,
    render_params,
    render_report,
    render_status,
)

LOWER = ["log_loss", "brier"]


def test_flatten_nested_params_to_dotted_keys() -> None:
    assert flatten({"train": {"logreg": {"C": 1.0}, "model": "logreg"}, "empty": {}}) == {
        "train.logreg.C": 1.0,
        "train.model": "logreg",
        "empty": {},
    }


def test_params_diff_lists_changed_added_and_removed_keys() -> None:
    base = {"train": {"logreg": {"C": 1.0, "max_iter": 1000}, "seed": 42}, "old": 1}
    current = {"train": {"logreg": {"C": 0.3, "max_iter": 1000}, "seed": 42}, "new": [1, 2]}
    assert diff_params(base, current) == [
        ParamChange("new", None, [1, 2]),
        ParamChange("old", 1, None),
        ParamChange("train.logreg.C", 1.0, 0.3),
    ]
    assert diff_params(current, current) == []


def test_params_section_says_when_nothing_changed_or_there_is_no_base() -> None:
    assert "No params changed." in render_params([], "main")
    assert "_No params at `main` to compare with._" in render_params(None, "main")
    table = render_params([ParamChange("train.logreg.C", 1.0, 0.3)], "main")
    assert "| `train.logreg.C` | 1.0000 | 0.3000 |" in table


def test_metric_deltas_have_direction_aware_markers() -> None:
    base = {"roc_auc": 0.80, "log_loss": 0.50, "f1": 0.6, "gone": 1.0}
    current = {"roc_auc": 0.82, "log_loss": 0.55, "f1": 0.6, "fresh": 0.3}
    rows = {d.metric: d for d in compare_metrics(base, current, LOWER)}
    assert rows["roc_auc"].verdict == "better"
    assert rows["roc_auc"].delta == pytest.approx(0.02)
    assert rows["roc_auc"].relative == pytest.approx(0.025)
    assert rows["log_loss"].verdict == "worse"  # higher log loss is worse
    assert rows["f1"].verdict == "unchanged" and rows["f1"].delta == 0
    assert rows["fresh"].verdict == "new" and rows["fresh"].delta is None
    assert rows["gone"].verdict == "removed" and rows["gone"].current is None
    lower_better = {d.metric: d.verdict for d in compare_metrics({"brier": 0.2}, {"brier": 0.1}, LOWER)}
    assert lower_better == {"brier": "better"}


def test_number_formatting() -> None:
    assert format_value(0.123456) == "0.1235"
    assert format_value(10000) == "10,000"
    assert format_value(None) == "—"
    assert format_value(True) == "true"
    assert format_value("logreg") == "`logreg`"
    assert format_delta(0.0019) == "+0.0019" and format_delta(-0.25) == "-0.2500" and format_delta(None) == "—"
    assert format_relative(0.0023) == "+0.23%" and format_relative(-0.5) == "-50.00%" and format_relative(None) == "—"


def test_status_line() -> None:
    gate = evaluate_gate({"roc_auc": 0.6}, None, GateConfig(minimum={"roc_auc": 0.75}))
    line = render_status(Status(tests="success", data="failure"), gate, "")
    assert line == (
        "**Tests** ✅ passed · **Data checks** ❌ failed · **Gate** ❌ failed: roc_auc 0.6000 is below the minimum 0.75"
    )
    assert "**Gate** ⏸️ not run (no metrics)" in render_status(Status(), None, "no metrics")
    assert "**Tests** — not run here" in render_status(Status(), None, "x")


def _inputs(churn_frame, config, **overrides) -> ReportInputs:
    metrics = {"roc_auc": 0.81, "log_loss": 0.48}
    drift = detect_drift(churn_frame, churn_frame, config.features.numeric, config.features.categorical, DriftConfig())
    values: dict[str, Any] = {
        "title": "Model report",
        "base_label": "main",
        "status": Status("success", "success", "success"),
        "base_sha": "a" * 40,
        "head_sha": "b" * 40,
        "params_changes": [],
        "metrics": metrics,
        "base_metrics": dict(metrics),
        "lower_is_better": LOWER,
        "gate": evaluate_gate(metrics, metrics, GateConfig(max_regression={"roc_auc": 0.01})),
        "images": {"roc": "roc.png", "drift": "drift.png"},
        "validation": ValidationResult("data/churn.csv", 2000, 11, []),
        "data_md5": "abc.dir",
        "base_data_md5": "abc.dir",
        "drift": drift,
        "model_card": {"family": "logreg", "params": {"C": 1.0}, "features": ["age"], "data_md5": "abc.dir"},
    }
    return ReportInputs(**(values | overrides))


def test_report_says_when_nothing_changed(churn_frame, config) -> None:
    report = render_report(_inputs(churn_frame, config))
    assert "**Nothing changed** compared to `main`: same params, same data, same metrics." in report
    assert report.index("**Tests**") < report.index("### Params") < report.index("### Metrics")
    assert report.index("### Metrics") < report.index("### Plots") < report.index("### Data")
    assert report.index("### Data") < report.index("### Model card")
    assert "![roc](roc.png)" in report and "![Drift per feature](drift.png)" in report
    assert "Schema checks**: passed" in report
    assert "Data version: `abc.dir`, unchanged." in report
    changed = render_report(_inputs(churn_frame, config, params_changes=[ParamChange("train.logreg.C", 1.0, 0.3)]))
    assert "Nothing changed" not in changed


def test_report_without_base_metrics_and_without_metrics(churn_frame, config) -> None:
    first = render_report(_inputs(churn_frame, config, base_metrics=None, base_sha=None, params_changes=None))
    assert "`main` has no metrics yet (first pull request?)" in first
    assert "vs `main` (not found)" in first
    assert "| `roc_auc` | — | 0.8100 | — | — | 🆕 new |" in first
    failed = ValidationResult(
        "data/churn.csv", 10, 11, [Failure("age", "in_range(16, 120)", 3, [{"row": 0, "value": 250}])]
    )
    broken = _inputs(
        churn_frame,
        config,
        metrics=None,
        gate=None,
        metrics_note="the pipeline did not run: train job skipped",
        validation=failed,
        images={},
        status=Status("success", "failure", "skipped"),
    )
    report = render_report(broken)
    assert "_No metrics for this PR: the pipeline did not run: train job skipped._" in report
    assert "Not run: the pipeline did not run: train job skipped." in report
    assert "| `age` | in_range(16, 120) | 3 | 0: 250 |" in report
    assert "### Plots" not in report


def test_drift_section_names_drifted_features(churn_frame, config) -> None:
    shifted = churn_frame.copy()
    shifted["age"] = shifted["age"] + 30
    drift = detect_drift(churn_frame, shifted, config.features.numeric, config.features.categorical, DriftConfig())
    report = render_report(_inputs(churn_frame, config, drift=drift, data_md5="new.dir"))
    assert "**1 feature(s) drifted**: age." in report
    assert re.search(
        r"\| `age` \| numeric \| \d+\.\d{4} \| 0 \| ⚠️ PSI \d\.\d{3} >= 0.2; KS p-value 0 < 0.01 \|", report
    )
    assert "Data version: `new.dir`, changed (base `abc.dir`)." in report


def test_comment_is_skipped_on_forks_and_without_token() -> None:
    assert comment_decision(True, "me/slipway", "me/slipway") == (True, "token available, same repository")
    post, reason = comment_decision(True, "stranger/slipway", "me/slipway")
    assert not post and "fork (stranger/slipway)" in reason
    post, reason = comment_decision(False, "me/slipway", "me/slipway")
    assert not post and "no token" in reason


def _commit(repo, message: str) -> None:
    env = project_env(repo)
    run(["git", "add", "-A"], repo, env=env)
    run(["git", "commit", "-qm", message], repo, env=env)


@pytest.mark.slow
def test_report_for_a_first_pull_request_whose_base_has_no_metrics(pulled_clone) -> None:
    clone, env = pulled_clone, project_env(pulled_clone)
    run(["git", "rm", "-rq", "outputs/metrics.json", "outputs/plots"], clone, env=env)
    _commit(clone, "main before the first model")
    run(["git", "checkout", "-qb", "first-model"], clone, env=env)
    run(["git", "checkout", "HEAD~1", "--", "outputs"], clone, env=env)
    _commit(clone, "first model")

    result = run(["slipway", "report", "--base", "main"], clone, env=env)
    report = (clone / "report" / "report.md").read_text()
    assert "gate passed" in result.stdout
    assert "`main` has no metrics yet (first pull request?)" in report
    assert "| `roc_auc` | — | 0.8104 | — | — | 🆕 new |" in report
    assert "no base metrics (first pull request?): only the absolute limits apply" in report
    assert (clone / "report" / "roc.png").exists()  # this PR's curve alone
    assert "Drift vs the base's data" in report and "none." in report
    gate = run(["slipway", "gate", "--base", "main"], clone, env=env, check=False)
    assert gate.returncode == 0 and "only the absolute limits apply" in gate.stdout


@pytest.mark.slow
def test_report_says_nothing_changed_and_goes_to_the_step_summary(pulled_clone, tmp_path) -> None:
    clone, env = pulled_clone, project_env(pulled_clone)
    run(["git", "checkout", "-qb", "docs-only"], clone, env=env)
    (clone / "NOTES.md").write_text("A change that does not touch the model.\n")
    _commit(clone, "docs only")
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    env = project_env(clone, GITHUB_STEP_SUMMARY=str(summary), SLIPWAY_BASE="main")
    run(["slipway", "report"], clone, env=env)
    report = (clone / "report" / "report.md").read_text()
    assert "**Nothing changed** compared to `main`: same params, same data, same metrics." in report
    assert "No params changed." in report
    assert summary.read_text() == "earlier step\n" + report + "\n"
