"""Report pieces: params and metrics diffs (values ± intervals), delta markers, formatting, the status line,
whole-report rendering, and the comment cut under GitHub's size limit."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import pytest
from support import project_env, run

from slipway.config import DriftConfig, GateConfig
from slipway.data.drift import detect_drift
from slipway.data.validation import Failure, ValidationResult
from slipway.metrics.bootstrap import Bootstrap, Interval
from slipway.review.comparison import Change, Comparison, Intervals
from slipway.review.gate import evaluate_gate
from slipway.review.gather import write_report
from slipway.review.report import (
    COMMENT_BUDGET,
    ParamChange,
    ReportInputs,
    Status,
    compare_metrics,
    diff_params,
    flatten,
    format_delta,
    format_relative,
    format_value,
    render_comment,
    render_gate,
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
        r"\| `age` \| numeric \| \d+\.\d{4} \| 0 \| "
        r"⚠️ PSI \d\.\d{3} >= 0.2; KS D \d\.\d{3} >= 0.1 \(p 0\.0e\+00 < 0.001\) \|",
        report,
    )
    assert "Data version: `new.dir`, changed (base `abc.dir`)." in report


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
    assert re.search(
        r"\| `roc_auc` \| — \| 0\.8104( ± 0\.\d{4})? \| — \| — \| 🆕 new \|", report
    )  # ± with intervals.json
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


def _intervals(**values: tuple[float, float]) -> Intervals:
    return Intervals({m: Interval(lo, hi) for m, (lo, hi) in values.items()}, Bootstrap(), 2000)


def test_metrics_show_each_value_with_its_interval_and_the_change_with_its_own(churn_frame, config) -> None:
    base, current = {"roc_auc": 0.81, "log_loss": 0.48}, {"roc_auc": 0.795, "log_loss": 0.483}
    changes = {
        "roc_auc": Change("roc_auc", -0.015, Interval(-0.019, -0.011), "paired", 2000),
        "log_loss": Change("log_loss", 0.003, Interval(-0.002, 0.008), "paired", 2000),
    }
    note = "paired: both models scored on the same 2,000 test rows, so row-to-row noise cancels"
    comparison = Comparison("paired", 0.95, changes, note)
    inputs = _inputs(
        churn_frame,
        config,
        metrics=current,
        base_metrics=base,
        intervals=_intervals(roc_auc=(0.776, 0.814), log_loss=(0.46, 0.506)),
        base_intervals=_intervals(roc_auc=(0.791, 0.829), log_loss=(0.457, 0.503)),
        comparison=comparison,
        gate=evaluate_gate(current, base, GateConfig(max_regression={"roc_auc": 0.01}), comparison),
    )
    report = render_report(inputs)
    assert (
        "| `roc_auc` | 0.8100 ± 0.0190 | 0.7950 ± 0.0190 | -0.0150 [-0.0190, -0.0110] | -1.85% | 🔴 worse |" in report
    )
    assert (
        "| `log_loss` | 0.4800 ± 0.0230 | 0.4830 ± 0.0230 | +0.0030 [-0.0020, +0.0080] | +0.63% | ⚪ within noise |"
        in report
    )
    assert (
        "<sub>± is half the 95% bootstrap interval over the revision's test rows; [ ] the change's 95% interval, "
        f"{note}.</sub>"
    ) in report
    assert "**Gate** ❌ failed: roc_auc fell by 0.0150 (95% interval 0.0110 to 0.0190, paired on 2,000 rows)" in report


def test_an_unpaired_comparison_says_why(churn_frame, config) -> None:
    note = (
        "unpaired: the split settings changed (`split.seed` 42 → 7), so the base's model may have trained on some of "
        "this revision's test rows; each revision is resampled on its own test rows"
    )
    change = Change("roc_auc", 0.002, Interval(-0.024, 0.028), "unpaired", 2000)
    comparison = Comparison("unpaired", 0.95, {"roc_auc": change}, note)
    metrics = {"roc_auc": 0.812, "log_loss": 0.48}
    report = render_report(_inputs(churn_frame, config, metrics=metrics, comparison=comparison))
    assert "| `roc_auc` | 0.8100 | 0.8120 | +0.0020 [-0.0240, +0.0280] | +0.25% | ⚪ within noise |" in report
    assert f"<sub>[ ] the change's 95% interval, {note}.</sub>" in report


def test_the_status_line_shows_an_inconclusive_gate() -> None:
    comparison = Comparison(
        "paired", 0.95, {"roc_auc": Change("roc_auc", -0.012, Interval(-0.022, -0.002), "paired", 2000)}, "paired"
    )
    gate = evaluate_gate(
        {"roc_auc": 0.798}, {"roc_auc": 0.81}, GateConfig(max_regression={"roc_auc": 0.01}), comparison
    )
    line = render_status(Status("success", "success"), gate, "")
    assert line == (
        "**Tests** ✅ passed · **Data checks** ✅ passed · **Gate** ⚠️ inconclusive, passes with a warning "
        "(roc_auc: too uncertain to tell, see the quality gate)"
    )
    gate_section = render_gate(gate, "")
    assert gate_section[2] == "**Inconclusive**: passes with a warning; 1 check(s) too uncertain to tell (⚠️ below)."
    assert gate_section[4].startswith("- ⚠️ roc_auc fell by 0.0120")


def _wide(features: int = 300) -> tuple[ReportInputs, list[str]]:
    """A project with 300 features: every tenth drifted, each with two changed params."""
    rng = np.random.default_rng(0)
    names = [f"feature_{i:03d}_with_a_long_descriptive_name" for i in range(features)]
    base = pd.DataFrame(rng.normal(size=(400, features)), columns=names)
    current = base + np.where(np.arange(features) % 10 == 0, 3.0, 0.0)  # every tenth feature shifted
    drift = detect_drift(base, current, names, [], DriftConfig())
    changes = [ParamChange(f"preprocess.{name}.{key}", 3.0, 4.0) for name in names for key in ("clip", "fill")]
    inputs = ReportInputs(
        title="Model report",
        base_label="main",
        status=Status("success", "success", "success"),
        params_changes=changes,
        metrics={"roc_auc": 0.8},
        base_metrics={"roc_auc": 0.8},
        drift=drift,
        model_card={"family": "logreg", "params": {}, "features": names},
        run_url="https://github.com/me/slipway/actions/runs/42",
    )
    return inputs, names


def test_a_report_with_300_features_is_cut_to_fit_in_a_comment() -> None:
    inputs, names = _wide()
    full = render_report(inputs)
    assert len(full) > 65_536  # too long for a comment as it is
    assert all(f"| `{name}` | numeric |" in full for name in names)
    comment = render_comment(inputs)
    assert len(comment) < 65_536 and len(comment.encode()) <= COMMENT_BUDGET
    where = (
        "the full report is in [this run](https://github.com/me/slipway/actions/runs/42)'s job summary and in its "
        "`report` artifact (`full-report.md`)"
    )
    cut_lines = [line for line in comment.splitlines() if "more row(s) not shown here" in line]
    assert len(cut_lines) == 2 and all(where in line for line in cut_lines)  # params and drift tables
    shown = [name for name in names if f"| `{name}` | numeric |" in comment]
    assert shown and len(shown) < len(names)
    assert inputs.drift is not None
    drifted = [f.feature for f in inputs.drift.features if f.drifted]
    assert len(drifted) == 30 and set(drifted) <= set(shown)  # the drifted features come first, so none is cut
    assert comment.index("### Metrics") < comment.index("### Data") and "### Model card" in comment


def test_a_report_too_long_even_with_short_tables_is_cut_at_a_line() -> None:
    inputs, _ = _wide()
    inputs.notes = ["x" * 80] * 2000  # a pathological note section
    comment = render_comment(inputs)
    assert len(comment.encode()) <= COMMENT_BUDGET
    assert comment.endswith("_The report is cut here: " + inputs.full_report_at + "._\n")


def test_a_cut_report_keeps_the_full_one_for_the_summary_and_the_artifact(tmp_path) -> None:
    summary = tmp_path / "summary.md"
    path = write_report("full\n" * 3, tmp_path / "report", str(summary), comment="cut\n")
    assert path.read_text() == "cut\n" and (tmp_path / "report" / "full-report.md").read_text() == "full\n" * 3
    assert summary.read_text() == "full\n" * 3 + "\n"
    write_report("short\n", tmp_path / "report", None, comment="short\n")  # fits: no stale full report stays
    assert not (tmp_path / "report" / "full-report.md").exists()
