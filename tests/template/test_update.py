"""Template updates: versions, the changelog excerpt, the pull request text, the push/PR decision (pure), then the
two steps on real local git repositories with a stand-in for `copier update` and for `gh`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from support import git, git_clone, project_env, run
from typer.testing import CliRunner

from slipway.cli.app import app
from slipway.template.changelog import changelog_excerpt, version_key
from slipway.template.proposal import (
    BODY,
    BODY_LIMIT,
    BUNDLE,
    PROPOSAL,
    TRAILER,
    Action,
    Proposal,
    RemoteBranch,
    TemplateError,
    decide,
    pr_body,
)
from slipway.template.update import link_answers, prepare_update, propose, template_url

CHANGELOG = """# Changelog

Intro text.

## Unreleased

- next thing

## v0.3.0 - 2027-02-01

- third: rename `monitor.window` (what to do: edit params.yaml)

## v0.2.0 - 2027-01-01

- second

## v0.1.0 - 2026-12-01

- first
"""


def test_versions_are_read_from_tags_and_from_commits_after_a_tag():
    assert version_key("v0.2.0") == (0, 2, 0)
    assert version_key("1.10.3") == (1, 10, 3)
    assert version_key("v0.2.0-3-gabc1234") == (0, 2, 0)
    assert version_key("main") is None and version_key("v1.2") is None


def test_the_excerpt_holds_the_versions_after_the_old_one_up_to_the_new_one():
    excerpt = changelog_excerpt(CHANGELOG, "v0.1.0", "v0.3.0")
    assert "## v0.3.0" in excerpt and "## v0.2.0" in excerpt
    assert "## v0.1.0" not in excerpt and "Unreleased" not in excerpt and "Intro" not in excerpt
    assert excerpt.index("v0.3.0") < excerpt.index("v0.2.0")
    only_second = changelog_excerpt(CHANGELOG, "v0.1.0", "v0.2.0")
    assert "## v0.2.0" in only_second and "third" not in only_second
    assert "next thing" in changelog_excerpt(CHANGELOG, "v0.2.0", "v0.3.0-2-gabc1234")  # past the last release
    assert changelog_excerpt(CHANGELOG, "v0.3.0", "v0.3.0") == ""


def _proposal(**changes) -> Proposal:
    values = {
        "branch": "template-update",
        "base": "0" * 40,
        "old_version": "v0.1.0",
        "new_version": "v0.2.0",
        "conflicts": [],
        "changed": ["Makefile", ".copier-answers.yml"],
    }
    return Proposal(**(values | changes))


def test_the_pull_request_lists_conflicts_first_then_the_changelog_and_what_to_check():
    body = pr_body(_proposal(conflicts=["params.yaml"]), "## v0.2.0\n\n- second\n")
    assert body.index("Conflicts to resolve (1)") < body.index("## v0.2.0")
    assert "- `params.yaml`" in body and "<<<<<<< before updating" in body
    assert "dvc repro" in body and "`Makefile`" in body
    assert "Conflicts" not in pr_body(_proposal(), "x")
    assert ".rej" in pr_body(_proposal(conflicts=["a"]), "x", conflict_mode="rej")
    assert len(pr_body(_proposal(), "x" * 100_000)) <= BODY_LIMIT
    assert _proposal(conflicts=["a"]).title.endswith("(conflicts to resolve)")


@pytest.mark.parametrize(
    ("open_pr", "remote", "expected"),
    [
        (None, None, Action.CREATE),
        (7, RemoteBranch("tree-a", "v0.2.0"), Action.NOTHING),
        (7, RemoteBranch("tree-b", "v0.2.0"), Action.UPDATE),  # main moved on: same version, other tree
        (7, RemoteBranch("tree-b", "v0.1.5"), Action.UPDATE),
        (None, RemoteBranch("tree-b", "v0.2.0"), Action.DECLINED),  # its pull request was closed
        (None, RemoteBranch("tree-b", "v0.1.5"), Action.CREATE),  # a newer version than the one declined
        (7, RemoteBranch("tree-a", ""), Action.FOREIGN),  # someone pushed to the branch
    ],
)
def test_the_decision_opens_one_pull_request_and_updates_it_while_open(open_pr, remote, expected):
    assert decide(open_pr, remote, "tree-a", "v0.2.0") is expected


def test_copiers_url_shortcuts_are_expanded_forgit():
    assert template_url("gh:acme/slipway") == "https://github.com/acme/slipway"
    assert template_url("gl:acme/slipway") == "https://gitlab.com/acme/slipway"
    assert template_url("/srv/templates/slipway") == "/srv/templates/slipway"


# --- the two steps, on real git repositories ------------------------------------------------------------------------

ANSWERS = "# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY\n_commit: {version}\n_src_path: /t\n"


def _project(root: Path, version: str = "v0.1.0") -> Path:
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    (root / ".copier-answers.yml").write_text(ANSWERS.format(version=version))
    (root / "params.yaml").write_text("monitor:\n  window_days: 7\n")
    (root / "Makefile").write_text("# verbs\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "start")
    return root


def _fake_copier(edits: dict[str, str], version: str = "v0.2.0"):
    """A stand-in for `copier update`: writes ``edits`` and records ``version`` in the answers file."""

    def update(root: Path, vcs_ref: str | None, conflict: str) -> None:
        for name, text in edits.items():
            (root / name).write_text(text)
        if edits:
            (root / ".copier-answers.yml").write_text(ANSWERS.format(version=vcs_ref or version))

    return update


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in project_env(Path.cwd()).items():
        if key.startswith("GIT_"):
            monkeypatch.setenv(key, value)


def _prepare(root: Path, edits: dict[str, str], **options) -> Proposal | None:
    return prepare_update(
        root, root / "build" / "out", updater=_fake_copier(edits), changelog=lambda src, ref: CHANGELOG, **options
    )


def test_prepare_commits_the_update_on_its_branch_and_writes_the_proposal(tmp_path, env):
    root = _project(tmp_path / "project")
    (root / ".gitignore").write_text("/build/\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "ignore build")
    proposal = _prepare(root, {"Makefile": "# verbs\n# from the template\n"})
    assert proposal is not None
    assert (proposal.old_version, proposal.new_version) == ("v0.1.0", "v0.2.0")
    assert proposal.changed == [".copier-answers.yml", "Makefile"] and proposal.conflicts == []
    assert git(root, "rev-parse", "--abbrev-ref", "HEAD").strip() == "template-update"
    assert f"{TRAILER}: v0.2.0" in git(root, "log", "-1", "--format=%B")
    assert git(root, "status", "--porcelain") == ""
    out = root / "build" / "out"
    assert Proposal.from_json((out / PROPOSAL).read_text()) == proposal
    body = (out / BODY).read_text()
    assert "## v0.2.0" in body and "## v0.1.0" not in body and "v0.3.0" not in body
    git(root, "bundle", "verify", "--quiet", str(out / BUNDLE))


def test_prepare_proposes_nothing_when_the_project_is_up_to_date(tmp_path, env):
    root = _project(tmp_path / "project")
    assert _prepare(root, {}) is None
    assert git(root, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    assert "template-update" not in git(root, "branch", "--list")


def test_a_failed_update_leaves_the_project_as_it_was(tmp_path, env):
    root = _project(tmp_path / "project")
    before = git(root, "rev-parse", "HEAD")

    def failing(root: Path, vcs_ref: str | None, conflict: str) -> None:
        (root / "Makefile").write_text("half\n")
        (root / "new.txt").write_text("half\n")
        raise TemplateError("copier update failed: the template cannot be reached")

    with pytest.raises(TemplateError, match="cannot be reached"):
        prepare_update(root, root / "out", updater=failing, changelog=lambda src, ref: "")
    assert git(root, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    assert git(root, "rev-parse", "HEAD") == before and git(root, "status", "--porcelain") == ""
    assert "template-update" not in git(root, "branch", "--list")


def test_conflicts_are_committed_as_they_are_and_listed_never_resolved(tmp_path, env):
    root = _project(tmp_path / "project")
    marked = (
        "monitor:\n<<<<<<< before updating\n  window_days: 10\n=======\n  window_days: 14\n>>>>>>> after updating\n"
    )
    proposal = _prepare(root, {"params.yaml": marked, "Makefile.rej": "@@ -1 +1 @@\n"})
    assert proposal is not None and proposal.conflicts == ["Makefile", "params.yaml"]
    assert git(root, "show", "HEAD:params.yaml") == marked
    body = (root / "build" / "out" / BODY).read_text()
    assert "Conflicts to resolve (2)" in body and "- `params.yaml`" in body and "- `Makefile`" in body


def test_prepare_refuses_a_dirty_project_and_a_project_without_answers(tmp_path, env):
    root = _project(tmp_path / "project")
    (root / "params.yaml").write_text("changed: true\n")
    with pytest.raises(TemplateError, match="uncommitted changes"):
        _prepare(root, {"Makefile": "x\n"})
    (root / ".copier-answers.yml").unlink()
    with pytest.raises(TemplateError, match=r"no \.copier-answers\.yml"):
        _prepare(root, {"Makefile": "x\n"})


def test_a_failing_git_or_gh_is_one_line_without_the_token(tmp_path, env, monkeypatch):
    root = _project(tmp_path / "project")
    token = "ghs_" + "0123456789abcdef" * 3
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "git").write_text('#!/bin/sh\necho "fatal: auth with $GH_TOKEN refused" >&2\nexit 128\n')
    (bin_dir / "git").chmod(0o755)
    monkeypatch.setenv("GH_TOKEN", token)
    monkeypatch.setenv("PATH", f"{bin_dir}:{project_env(root)['PATH']}")
    with pytest.raises(TemplateError) as caught:
        prepare_update(root, root / "out", updater=_fake_copier({}), changelog=lambda src, ref: "")
    message = str(caught.value)
    assert "\n" not in message and "failed (exit 128)" in message and "auth with *** refused" in message
    assert token not in message


class FakeGitHub:
    """`gh` for :func:`propose`: pull requests in memory, every call recorded; git commands run for real."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.calls: list[list[str]] = []
        self.prs: list[dict[str, Any]] = []

    def __call__(self, command: Sequence[str]) -> str:
        command = list(command)
        if command[0] == "git":
            return run(command, self.root, env=project_env(self.root)).stdout
        self.calls.append(command)
        if command[1:3] == ["pr", "list"]:
            head = command[command.index("--head") + 1]
            return json.dumps([{"number": p["number"]} for p in self.prs if p["head"] == head and p["open"]])
        if command[1:3] == ["pr", "create"]:
            number = len(self.prs) + 1
            self.prs.append({"number": number, "head": command[command.index("--head") + 1], "open": True})
            return f"https://github.com/example/project/pull/{number}\n"
        return ""

    def called(self, *prefix: str) -> list[list[str]]:
        return [c for c in self.calls if c[1 : 1 + len(prefix)] == list(prefix)]


def _with_origin(tmp_path: Path) -> tuple[Path, Path]:
    source = _project(tmp_path / "source")
    (source / ".gitignore").write_text("/build/\n")
    git(source, "add", "-A")
    git(source, "commit", "-qm", "ignore build")
    origin = tmp_path / "origin.git"
    git_clone(source, origin, "--bare")
    return origin, tmp_path


def _remote_branches(origin: Path) -> list[str]:
    return git(origin, "branch", "--format=%(refname:short)").split()


def test_one_branch_one_pull_request_then_nothing_until_something_changes(tmp_path, env):
    origin, _ = _with_origin(tmp_path)
    edits = {"Makefile": "# verbs\n# from the template\n"}
    first = git_clone(origin, tmp_path / "run1")
    _prepare(first, edits)
    gh = FakeGitHub(first)
    assert propose(first, first / "build" / "out", runner=gh)[0] is Action.CREATE
    assert _remote_branches(origin) == ["main", "template-update"]
    created = gh.called("pr", "create")
    assert len(created) == 1 and "## v0.2.0" in created[0][created[0].index("--body") + 1]
    pushed = git(origin, "rev-parse", "template-update")

    second = git_clone(origin, tmp_path / "run2")  # the next scheduled run, nothing new
    _prepare(second, edits)
    gh.root = second
    action, message = propose(second, second / "build" / "out", runner=gh)
    assert action is Action.NOTHING and "#1" in message
    assert git(origin, "rev-parse", "template-update") == pushed
    assert len(gh.called("pr", "create")) == 1 and gh.called("pr", "edit") == []

    third = git_clone(origin, tmp_path / "run3")  # main moved on: the open pull request is updated, not duplicated
    (third / "README.md").write_text("ours\n")
    git(third, "add", "-A")
    git(third, "commit", "-qm", "team work")
    git(third, "push", "-q", "origin", "main")
    _prepare(third, edits)
    gh.root = third
    assert propose(third, third / "build" / "out", runner=gh)[0] is Action.UPDATE
    assert [c[:4] for c in gh.called("pr", "edit")] == [["gh", "pr", "edit", "1"]]
    assert len(gh.called("pr", "create")) == 1
    assert git(origin, "rev-parse", "template-update") != pushed


def test_a_closed_pull_request_is_not_reopened_and_foreign_commits_are_never_pushed_over(tmp_path, env):
    origin, _ = _with_origin(tmp_path)
    edits = {"Makefile": "# verbs\n# from the template\n"}
    first = git_clone(origin, tmp_path / "run1")
    _prepare(first, edits)
    gh = FakeGitHub(first)
    propose(first, first / "build" / "out", runner=gh)
    gh.prs[0]["open"] = False  # the team closed it: they skip this version

    again = git_clone(origin, tmp_path / "run2")
    _prepare(again, edits)
    gh.root = again
    assert propose(again, again / "build" / "out", runner=gh)[0] is Action.DECLINED
    assert len(gh.called("pr", "create")) == 1

    gh.prs[0]["open"] = True  # reopened, and someone resolves things on the branch
    person = git_clone(origin, tmp_path / "person")
    git(person, "switch", "-q", "template-update")
    (person / "Makefile").write_text("# resolved by hand\n")
    git(person, "commit", "-qam", "Resolve")
    git(person, "push", "-q", "origin", "template-update")
    theirs = git(origin, "rev-parse", "template-update")
    assert propose(again, again / "build" / "out", runner=gh)[0] is Action.FOREIGN
    assert git(origin, "rev-parse", "template-update") == theirs


def test_a_tampered_proposal_cannot_push_to_main(tmp_path, env):
    origin, _ = _with_origin(tmp_path)
    work = git_clone(origin, tmp_path / "run")
    _prepare(work, {"Makefile": "# from the template\n"})
    out = work / "build" / "out"
    data = json.loads((out / PROPOSAL).read_text()) | {"branch": "main"}
    (out / PROPOSAL).write_text(json.dumps(data))
    main_before = git(origin, "rev-parse", "main")
    gh = FakeGitHub(work)
    with pytest.raises(TemplateError, match="not an update branch"):
        propose(work, out, runner=gh)
    assert git(origin, "rev-parse", "main") == main_before and gh.calls == []


def test_link_writes_the_answers_of_the_version_and_the_projects_values(tmp_path):
    root = tmp_path / "project"
    (root / ".dvc").mkdir(parents=True)
    (root / "params.yaml").write_text("deploy:\n  image: ghcr.io/acme/churn\nreport:\n  title: Churn report\n")
    config = "[core]\n    remote = embedded\n['remote \"embedded\"']\n    url = ../dvc-storage\n"
    (root / ".dvc" / "config").write_text(config)
    path = link_answers(root, "gh:acme/slipway", "v0.1.0")
    assert yaml.safe_load(path.read_text()) == {
        "_commit": "v0.1.0",
        "_src_path": "gh:acme/slipway",
        "dvc_remote_url": "dvc-storage",
        "image_repository": "ghcr.io/acme/churn",
        "report_title": "Churn report",
    }
    with pytest.raises(TemplateError, match="exists already"):
        link_answers(root, "gh:acme/slipway", "v0.2.0")
    with pytest.raises(TemplateError, match="give the release"):
        link_answers(root, "gh:acme/slipway", "main", force=True)
    with pytest.raises(TemplateError, match="where the template lives"):
        link_answers(root, "", "v0.1.0", force=True)


def test_the_verb_does_nothing_without_an_answers_file_and_says_why(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    output = tmp_path / "github-output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    result = CliRunner().invoke(app, ["template-update"])
    assert result.exit_code == 0, result.output
    assert "no .copier-answers.yml" in result.output and "template itself" in result.output
    assert output.read_text() == "changed=false\n"


def test_the_verbs_fail_in_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".copier-answers.yml").write_text("_commit: v0.1.0\n")
    result = CliRunner().invoke(app, ["template-update"])
    assert result.exit_code == 1 and "names no template" in result.output
    assert "Traceback" not in result.output
    result = CliRunner().invoke(app, ["template-link", "--template", "gh:a/b", "--version", "latest"])
    assert result.exit_code == 1 and "give the release" in result.output
