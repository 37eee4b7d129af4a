"""pr.yml then pr-comment.yml executed with act: a same-repository pull request, from its run to its comment.

Main's pipeline outputs and run cache are in the DVC remote (as main.yml pushes them), and the pull request
changes one training parameter:
- pr.yml restores the stages whose inputs did not change (validate, prepare, reference) from the remote and runs
  train and evaluate; its jobs hold read-only tokens, post nothing, and upload the report as an artifact;
- pr-comment.yml (default branch code, the `workflow_run` event naming pull request 7) pushes the PNGs to the
  repository's own image branch under pr-7/<head sha>/ and posts the sticky comment linking them there.

The tests job runs a small part of the fast suite here (repository variable PR_PYTEST_ARGS).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from support import records
from workflows.act_harness import act_missing, host_uv_cache, retried_if_act_failed, skip_under_act
from workflows.comment_scenarios import (
    IMAGE_BRANCH,
    RUN_ID,
    bare_origin,
    branch_files,
    head_of,
    jsonl,
    pull,
    run_comment,
    workflow_run_event,
)
from workflows.pr_scenarios import WATERMARK, act, open_pull_request, set_params, stages, uploaded_report

pytestmark = [pytest.mark.slow, skip_under_act(), act_missing(), retried_if_act_failed()]

IMAGES = {"roc.png", "precision_recall.png", "confusion.png", "calibration.png", "importance.png", "drift.png"}


def test_a_pull_request_restores_what_main_computed_and_gets_its_comment_from_the_default_branch(
    tmp_path: Path, reproduced_source: Path
) -> None:
    repo = open_pull_request(
        tmp_path, set_params(**{"train.logreg.C": 0.3}), "Try C=0.3", shared=(tmp_path / "remote", reproduced_source)
    )
    record = tmp_path / "record"
    result = act(repo, record)
    print(f"pr.yml under act: {result.seconds:.1f} s")

    assert result.returncode == 0, result.describe()
    assert result.job_results == {"tests": "success", "pipeline": "success", "report": "success"}
    ran, restored = stages(result.output("pipeline"))
    assert ran == {"train", "evaluate"}, result.output("pipeline")[-3000:]
    assert restored >= {"validate", "prepare"}, result.output("pipeline")[-3000:]

    # pr.yml posts nothing and holds no write permission: the report is an artifact.
    workflow = yaml.safe_load((repo / ".github" / "workflows" / "pr.yml").read_text())
    granted = {name: job.get("permissions") for name, job in workflow["jobs"].items()}
    assert all(set(p.values()) == {"read"} for p in granted.values()), granted
    assert records(record, "cml") == [] and records(record, "setup-cml") == []
    # every job's environment came from the package cache with compiled bytecode (support.package_cache)
    compiled = f"{host_uv_cache().name}.slipway-compiled"
    assert {Path(call["uv-cache"]).name for call in records(record, "setup-uv")} == {compiled}
    (mypy_cache,) = [call for call in records(record, "cache") if call["path"] == ".mypy_cache"]
    assert mypy_cache["job"] == "tests" and mypy_cache["restored"] == "mypy-Linux-saved"  # the lint ran warm
    report = uploaded_report(record)
    assert "**Tests** ✅ passed · **Data checks** ✅ passed · **Gate** ✅ passed" in report
    assert "| `train.logreg.C` | 1.0000 | 0.3000 |" in report
    metrics = json.loads((record / "artifacts" / "pipeline-outputs" / "metrics.json").read_text())
    base = json.loads((repo / "outputs" / "metrics.json").read_text())  # main's committed metrics
    for name in ("roc_auc", "log_loss", "f1"):  # each value may carry its interval (± ...), the change its own [...]
        cells = [f"{base[name]:.4f}", f"{metrics[name]:.4f}", f"{metrics[name] - base[name]:+.4f}"]
        b, m, d = (re.escape(cell) for cell in cells)
        assert re.search(rf"\| `{name}` \| {b}( ± \S+)? \| {m}( ± \S+)? \| {d}( \[[^]]+\])? \|", report), name
    assert "Drift vs the base's data" in report and "none." in report
    assert "### Model card" in report and "`C=0.3`" in report
    uploaded = record / "artifacts" / "report"
    assert {p.name for p in uploaded.glob("*.png")} == IMAGES
    assert result.summaries["report"].strip() == report.strip()
    assert {r["name"] for r in records(record, "upload-artifact")} == {"validation", "pipeline-outputs", "report"}
    metrics = json.loads((record / "artifacts" / "pipeline-outputs" / "metrics.json").read_text())
    assert 0.5 < metrics["roc_auc"] < 1

    # The workflow_run run: the default branch's code posts the comment and pushes the images.
    sha = head_of(repo)
    origin = bare_origin(repo, record)
    event = workflow_run_event(sha, "example/slipway", listed=[7])
    posted = run_comment(repo, record, event, [pull(7, sha)], origin)
    assert posted.returncode == 0, posted.describe()
    assert "posted the report on pull request #7 (found by the event), images: github" in posted.output("comment")

    files = branch_files(origin)
    assert files == {f"pr-7/{sha}/{name}": (uploaded / name).read_bytes() for name in IMAGES}
    (push,) = jsonl(record / "pushes.jsonl")
    assert push["ref"] == f"refs/heads/{IMAGE_BRANCH}" and push["old"] == "0" * 40

    (call,) = records(record, "cml")
    assert call["command"] == "update" and WATERMARK in call["options"]
    assert "--target=pr/7" in call["options"] and "--no-publish" in call["options"] and call["images"] == []
    comment = (Path(call["saved"]) / "report.md").read_text()
    links = set(re.findall(r"!\[[^\]]*\]\(([^)]+)\)", comment))
    base = f"https://github.com/example/slipway/blob/{IMAGE_BRANCH}/pr-7/{sha}/"
    assert links == {f"{base}{name}?raw=true" for name in IMAGES}
    assert comment.replace(base, "").replace("?raw=true", "") == report  # only the links changed
    assert not (record / "cml-assets.jsonl").exists()  # nothing went to CML's asset host
    (download,) = [r for r in records(record, "download-artifact") if r["job"] == "comment"]
    assert download["name"] == "report" and download["run_id"] == str(RUN_ID)
