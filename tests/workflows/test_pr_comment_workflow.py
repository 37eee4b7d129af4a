"""pr-comment.yml under act, for a fork's pull request and for hostile artifacts.

A fork's pull request runs its own pr.yml, so its `report` artifact may hold anything. Here the artifacts are
crafted (what pr.yml produces is tested in test_pr_workflow.py):
- a fork's run, which GitHub lists with no pull request: the pull request is found by the run's head commit
  (search API, checked against the run), gets its comment and its images on the image branch, and the pull-request
  number the artifact carries in a file of its own is ignored; a closed pull request's folder is pruned;
- the nightly housekeeping (`schedule`) drops the folders of pull requests closed since;
- a path traversal, a fake PNG, an oversized PNG, a symbolic link: refused before anything is asked of GitHub,
  pushed or posted.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from support import fresh_clone, project_env, run
from workflows.act_harness import act_missing, retried_if_act_failed, skip_under_act
from workflows.comment_scenarios import (
    IMAGE_BRANCH,
    bare_origin,
    branch_files,
    craft_report,
    jsonl,
    pull,
    run_comment,
    tiny_png,
    workflow_run_event,
)

from slipway.review.report_artifact import MAX_IMAGE_BYTES

pytestmark = [pytest.mark.slow, skip_under_act(), act_missing(), retried_if_act_failed()]

FORK = "stranger/slipway"
HEAD = "f" * 40
REPORT = "## Slipway model report\n\n![roc](roc.png) ![drift](drift.png)\n\n| metric | main | PR |\n|---|---|---|\n"


def seed_closed_folder(origin: Path, tmp_path: Path) -> None:
    """The image branch as an earlier run left it: the folder of pull request 3, closed since."""
    seed = tmp_path / "seed"
    run(["git", "init", "-q", "-b", IMAGE_BRANCH, str(seed)], tmp_path)
    (seed / "pr-3" / ("3" * 40)).mkdir(parents=True)
    (seed / "pr-3" / ("3" * 40) / "roc.png").write_bytes(tiny_png(3))
    run(["git", "add", "-A"], seed)
    run(["git", "commit", "-q", "-m", "earlier"], seed, env=project_env(seed))
    run(["git", "push", "-q", str(origin), f"{IMAGE_BRANCH}:{IMAGE_BRANCH}"], seed)


def test_a_forks_pull_request_is_found_by_its_commit_and_gets_its_comment(tmp_path: Path) -> None:
    repo = fresh_clone(tmp_path / "repo")
    record = tmp_path / "record"
    record.mkdir()
    origin = bare_origin(repo, record)
    seed_closed_folder(origin, tmp_path)
    pushed_before = len(jsonl(record / "pushes.jsonl"))
    images = {"roc.png": tiny_png(10), "drift.png": tiny_png(20)}
    craft_report(record, REPORT, images | {"NR": b"1\n", "pr.json": b'{"number": 1}'})
    pulls = [pull(7, HEAD, FORK), pull(1, "e" * 40), pull(3, "3" * 40, state="closed")]
    event = workflow_run_event(HEAD, FORK, listed=[])  # GitHub lists no pull request for a fork's run

    result = run_comment(repo, record, event, pulls, origin, commit_pulls=False)

    assert result.returncode == 0, result.describe()
    log = result.output("comment")
    assert "posted the report on pull request #7 (found by a search by commit)" in log
    assert "ignored (never read): 'NR', 'pr.json'" in log
    calls = [c["args"] for c in jsonl(record / "gh.jsonl")]
    assert ["api", "repos/example/slipway/commits/" + HEAD + "/pulls"] in calls
    assert any(c[:4] == ["api", "-X", "GET", "search/issues"] and HEAD in c[-1] for c in calls), calls
    assert ["api", "repos/example/slipway/pulls/7"] in calls and ["api", "repos/example/slipway/pulls/1"] not in calls

    assert branch_files(origin) == {f"pr-7/{HEAD}/{name}": data for name, data in images.items()}  # pr-3 pruned
    assert len(jsonl(record / "pushes.jsonl")) == pushed_before + 1
    (call,) = jsonl(record / "cml.jsonl")
    assert "--target=pr/7" in call["options"] and not any("pr/1" in o for o in call["options"])
    comment = (Path(call["saved"]) / "report.md").read_text()
    base = f"https://github.com/example/slipway/blob/{IMAGE_BRANCH}/pr-7/{HEAD}/"
    assert set(re.findall(r"\]\(([^)]+)\)", comment)) == {f"{base}roc.png?raw=true", f"{base}drift.png?raw=true"}


def test_the_nightly_housekeeping_prunes_closed_pull_requests(tmp_path: Path) -> None:
    repo = fresh_clone(tmp_path / "repo")
    record = tmp_path / "record"
    record.mkdir()
    origin = bare_origin(repo, record)
    seed_closed_folder(origin, tmp_path)  # pull request 3, closed since
    pulls = [pull(3, "3" * 40, state="closed"), pull(8, "8" * 40)]
    event = {"schedule": "23 4 * * *", "repository": {"full_name": "example/slipway"}}

    result = run_comment(repo, record, event, pulls, origin, event_name="schedule", job="prune")

    assert result.returncode == 0 and result.job_results == {"prune": "success"}, result.describe()
    assert f"{IMAGE_BRANCH}: kept the folders of 1 open pull request(s)" in result.output("prune")
    assert branch_files(origin) == {}
    assert jsonl(record / "pushes.jsonl")[-1]["ref"] == f"refs/heads/{IMAGE_BRANCH}"
    assert jsonl(record / "cml.jsonl") == []


HOSTILE = {
    "path traversal": (
        "![config](../../../.git/config) ![roc](roc.png)\n",
        {"roc.png": tiny_png()},
        "report.md links '../../../.git/config', outside the report folder",
    ),
    "not a PNG": ("![roc](roc.png)\n", {"roc.png": b"<svg onload=alert(1)></svg>"}, "'roc.png' is not a PNG image"),
    "oversized PNG": (
        "![roc](roc.png)\n",
        {"roc.png": tiny_png() + b"\0" * MAX_IMAGE_BYTES},
        "'roc.png' is 2,097,",
    ),
    "symbolic link": ("![roc](roc.png)\n", {}, "'roc.png' is a symbolic link"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_artifact_is_refused_before_anything_is_asked_pushed_or_posted(tmp_path: Path, case: str) -> None:
    markdown, files, reason = HOSTILE[case]
    repo = fresh_clone(tmp_path / "repo")
    record = tmp_path / "record"
    record.mkdir()
    origin = bare_origin(repo, record)
    folder = craft_report(record, markdown, files)
    if case == "symbolic link":
        os.symlink("/etc/passwd", folder / "roc.png")

    result = run_comment(repo, record, workflow_run_event(HEAD, FORK, listed=[]), [pull(7, HEAD, FORK)], origin)

    assert result.returncode != 0 and result.job_results["comment"] == "failure", result.describe()
    assert "report refused, nothing pushed or posted: " + reason in result.output("comment")
    assert jsonl(record / "gh.jsonl") == [] and jsonl(record / "cml.jsonl") == []
    assert jsonl(record / "pushes.jsonl") == [] and branch_files(origin) == {}
