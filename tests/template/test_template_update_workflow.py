"""template-update.yml executed with act (slow): a project copied from the scratch template's v0.1.0, with a local
bare "origin", the template's v0.2.0 out, and a recording `gh` on PATH.

The first run pushes one branch and opens one pull request quoting the changelog; a second run with nothing new
pushes and opens nothing. In the template repository itself (no answers file) the workflow does nothing and says so.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from support import fresh_clone, gh_calls, git, git_clone
from workflows.act_harness import GH, ActRun, act_missing, retried_if_act_failed, run_workflow, skip_under_act

pytestmark = [pytest.mark.slow, skip_under_act(), act_missing(), retried_if_act_failed()]

WORKFLOW = ".github/workflows/template-update.yml"
EVENT = {"inputs": {"version": ""}, "ref": "refs/heads/main", "repository": {"full_name": "example/project"}}


def _run(origin: Path, workdir: Path, record: Path, state: Path) -> ActRun:
    """One scheduled run: act on a fresh clone of ``origin``, as GitHub checks it out."""
    return run_workflow(
        git_clone(origin, workdir),
        WORKFLOW,
        "workflow_dispatch",
        EVENT,
        record_dir=record,
        env={"GH_STANDIN_STATE": str(state)},
        tools=(GH,),
    )


def test_one_branch_one_pull_request_then_a_run_with_nothing_new_opens_nothing(project_v010, tmp_path):
    origin = tmp_path / "origin.git"
    git_clone(project_v010, origin, "--bare")
    state = tmp_path / "gh-state.json"

    first = _run(origin, tmp_path / "run1", tmp_path / "record1", state)

    assert first.job_results == {"update": "success", "propose": "success"}, first.describe()
    assert git(origin, "branch", "--format=%(refname:short)").split() == ["main", "template-update"]
    answers = yaml.safe_load(git(origin, "show", "template-update:.copier-answers.yml"))
    assert answers["_commit"] == "v0.2.0"
    assert "window_days: 14" in git(origin, "show", "template-update:params.yaml")
    calls = gh_calls(tmp_path / "record1")
    created = [c for c in calls if c[:2] == ["pr", "create"]]
    assert len(created) == 1, calls
    assert created[0][created[0].index("--head") + 1] == "template-update"
    assert created[0][created[0].index("--base") + 1] == "main"
    body = created[0][created[0].index("--body") + 1]
    assert "`v0.1.0` -> `v0.2.0`" in body and "## v0.2.0" in body and "monitor.window_days" in body
    assert "Conflicts" not in body
    pushed = git(origin, "rev-parse", "template-update")

    second = _run(origin, tmp_path / "run2", tmp_path / "record2", state)

    assert second.job_results == {"update": "success", "propose": "success"}, second.describe()
    assert "already proposes this update" in second.output("propose")
    calls = gh_calls(tmp_path / "record2")
    assert not [c for c in calls if c[:2] in (["pr", "create"], ["pr", "edit"])], calls
    assert git(origin, "rev-parse", "template-update") == pushed
    assert len(json.loads(state.read_text())["pulls"]) == 1


def test_in_the_template_repository_the_workflow_does_nothing_and_says_so(template, tmp_path):
    repo = fresh_clone(tmp_path / "template", source=template)
    result = run_workflow(repo, WORKFLOW, "workflow_dispatch", EVENT, record_dir=tmp_path / "record", tools=(GH,))
    assert result.job_results.get("update") == "success", result.describe()
    assert result.job_results.get("propose") in (None, "skipped"), result.describe()
    assert "no .copier-answers.yml here, so nothing to update" in result.output("update")
    assert gh_calls(tmp_path / "record") == []
