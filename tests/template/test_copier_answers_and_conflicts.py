"""Copier copies and updates beyond the happy path (slow): the answers in a copy, an answer refused, the answers
task on update, an edit to the line the template changed (a listed conflict, never resolved either way, with markers
or .rej files), and a repository made with "Use this template" joining with `slipway template-link`."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml
from support import git, git_clone, project_env, run
from template.scratch import COPIER, MAKEFILE_LINE, answers, copier_copy, status, update

pytestmark = pytest.mark.slow

TEMPLATE_ONLY = ["copier.yml", ".copier", "CHANGELOG.md", "tests/template", "{{_copier_conf.answers_file}}.jinja"]


def test_a_copy_is_a_project_with_the_answers_in_its_own_files(template, tmp_path):
    title = 'Churn: "weekly" $(touch pwned) #1'  # quotes, a colon, a comment sign, shell syntax: only ever text
    given = ["--data", f"report_title={title}", "--data", "image_repository=ghcr.io/acme/churn"]
    project = copier_copy(template, tmp_path / "project", *given)
    recorded = answers(project)
    assert recorded["_commit"] == "v0.1.0" and recorded["_src_path"] == str(template)
    assert recorded["report_title"] == title and recorded["dvc_remote_url"] == "dvc-storage"
    for name in TEMPLATE_ONLY:
        assert not (project / name).exists(), f"{name} is the template's own, not the project's"
    params_before = git(template, "show", "v0.1.0:params.yaml").split("\n")
    params_after = (project / "params.yaml").read_text().split("\n")
    changed = [b for a, b in zip(params_before, params_after, strict=True) if a != b]
    assert [line.split(":")[0].strip() for line in changed] == ["image", "title"]
    config = yaml.safe_load((project / "params.yaml").read_text())
    assert config["deploy"]["image"] == "ghcr.io/acme/churn" and config["report"]["title"] == title
    assert not (project / "pwned").exists() and not (tmp_path / "pwned").exists()
    for name in ("dvc.lock", "outputs/metrics.json", ".github/workflows/template-update.yml", "docs/upgrading.md"):
        assert (project / name).exists(), name
    assert git(template, "show", "v0.1.0:.dvc/config") == (project / ".dvc" / "config").read_text()


def test_an_answer_that_fails_its_check_creates_nothing(template, tmp_path):
    command = [COPIER, "copy", "--vcs-ref", "v0.1.0", "--defaults", "--trust", "--data", "image_repository=Bad Image"]
    result = run([*command, str(template), str(tmp_path / "bad")], tmp_path, check=False, env=project_env(tmp_path))
    assert result.returncode != 0
    assert "Validation error for question 'image_repository': a lowercase image repository" in result.stderr
    assert not (tmp_path / "bad").exists()


def test_the_answers_task_reruns_on_update_without_undoing_an_edit_and_a_changed_answer_is_written(
    project_v010, tmp_path
):
    project = git_clone(project_v010, tmp_path / "project")
    params = project / "params.yaml"
    params.write_text(params.read_text().replace("ghcr.io/example/slipway-model", "registry.acme.test/churn", 1))
    git(project, "commit", "-qam", "Our registry, set by hand")

    update(project)  # the task writes the recorded (default) answer in each render: the team's edit stays
    config = yaml.safe_load(params.read_text())
    assert config["deploy"]["image"] == "registry.acme.test/churn" and config["monitor"]["window_days"] == 14
    git(project, "commit", "-qam", "Update to v0.2.0")

    changed = [COPIER, "update", "--trust", "--defaults", "--vcs-ref", ":current:", "--data", "report_title=Churn"]
    run(changed, project, env=project_env(project))
    assert status(project) == {".copier-answers.yml", "params.yaml"}
    diff = git(project, "diff", "--unified=0", "params.yaml").splitlines()
    removed, added = [line for line in diff if line.startswith("- ")], [line for line in diff if line.startswith("+ ")]
    assert len(removed) == len(added) == 1 and "title: Slipway model report" in removed[0]
    assert added[0].startswith("+  title: Churn ") and added[0].endswith(
        "# also the watermark that keeps one sticky comment per PR"
    )
    assert answers(project)["report_title"] == "Churn" and answers(project)["_commit"] == "v0.2.0"


def test_an_edit_to_the_line_the_template_changed_is_a_listed_conflict_never_resolved(project_v010, tmp_path):
    project = git_clone(project_v010, tmp_path / "project")
    params = project / "params.yaml"
    params.write_text(params.read_text().replace("  window_days: 7 ", "  window_days: 10", 1))
    git(project, "commit", "-qam", "We look at ten days")
    output = tmp_path / "github-output"
    env = project_env(project, GITHUB_OUTPUT=str(output))

    result = run(["slipway", "template-update", "--vcs-ref", "v0.2.0"], project, env=env)

    assert "conflict in params.yaml" in result.stdout
    assert "changed=true" in output.read_text() and "conflicts=1" in output.read_text()
    assert git(project, "rev-parse", "--abbrev-ref", "HEAD").strip() == "template-update"
    committed = git(project, "show", "HEAD:params.yaml")
    ours, theirs = committed.index("window_days: 10"), committed.index("window_days: 14")
    assert committed.index("<<<<<<< before updating") < ours < committed.index("=======") < theirs
    assert theirs < committed.index(">>>>>>> after updating")
    proposal = json.loads((project / "build" / "template-update" / "proposal.json").read_text())
    assert proposal["conflicts"] == ["params.yaml"] and proposal["new_version"] == "v0.2.0"
    body = (project / "build" / "template-update" / "body.md").read_text()
    assert "Conflicts to resolve (1)" in body and "- `params.yaml`" in body
    assert "## v0.2.0" in body and "monitor.window_days" in body and "## v0.1.0" not in body


def test_with_rej_files_the_conflict_is_listed_and_the_projects_change_kept_in_the_rej(project_v010, tmp_path):
    project = git_clone(project_v010, tmp_path / "project")
    params = project / "params.yaml"
    params.write_text(params.read_text().replace("  window_days: 7 ", "  window_days: 10", 1))
    git(project, "commit", "-qam", "We look at ten days")

    result = run(["slipway", "template-update", "--vcs-ref", "v0.2.0", "--conflict", "rej"], project)

    assert "conflict in params.yaml" in result.stdout
    assert "window_days: 10" in git(project, "show", "HEAD:params.yaml.rej")
    body = (project / "build" / "template-update" / "body.md").read_text()
    assert "- `params.yaml`" in body and ".rej" in body


def test_a_use_this_template_repository_joins_with_one_command_and_updates(template, tmp_path):
    repo = tmp_path / "made-from-github"
    repo.mkdir()
    archive = tmp_path / "v0.1.0.tar"
    git(template, "archive", "-o", str(archive), "v0.1.0")
    shutil.unpack_archive(archive, repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "Initial commit")  # what GitHub's "Use this template" gives: the files, no history
    params = repo / "params.yaml"
    params.write_text(params.read_text().replace("ghcr.io/example/slipway-model", "ghcr.io/acme/churn", 1))
    git(repo, "commit", "-qam", "Our image")

    linked = run(["slipway", "template-link", "--template", str(template), "--version", "v0.1.0"], repo)
    assert "_commit: v0.1.0" in linked.stdout
    assert answers(repo)["image_repository"] == "ghcr.io/acme/churn"
    git(repo, "add", ".copier-answers.yml")
    git(repo, "commit", "-qm", "Join the template's updates")
    update(repo)

    assert status(repo) == {".copier-answers.yml", "Makefile", "README.md", "params.yaml"}
    assert answers(repo)["_commit"] == "v0.2.0"
    config = yaml.safe_load(params.read_text())
    assert config["monitor"]["window_days"] == 14 and config["deploy"]["image"] == "ghcr.io/acme/churn"
    assert (repo / "Makefile").read_text().startswith(MAKEFILE_LINE)
    assert "<<<<<<<" not in git(repo, "diff")
