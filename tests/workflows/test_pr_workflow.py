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
from pathlib import Path

import pytest
from support import records
from workflows.act_harness import act_missing, skip_under_act
from workflows.pr_scenarios import WATERMARK, act, open_pull_request, posted_report, set_params

pytestmark = [pytest.mark.slow, skip_under_act(), act_missing()]


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
    assert {(r["job"], r["enable-cache"]) for r in records(record, "setup-uv")} >= {("train", "auto")}
    (dvc_cache,) = records(record, "cache")
    assert dvc_cache["path"] == ".dvc/cache" and dvc_cache["key"].startswith("dvc-Linux-")
    assert {r["name"] for r in records(record, "upload-artifact")} == {"validation", "pipeline-outputs", "report"}
    assert "gate PASSED" in result.output("report")
