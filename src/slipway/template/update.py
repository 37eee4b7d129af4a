"""Keep a project made from the Slipway template current: ``copier update`` on a branch, then one pull request.

Two steps, so that the template's code (Copier runs its tasks) never runs where a write token is:

- :func:`prepare_update` runs ``copier update`` (a three-way merge that keeps the project's own changes) on a fresh
  branch from the current commit, commits the result, conflicts included as they are, and writes a git bundle of
  that commit plus the pull request's title and text to a folder (:class:`~slipway.template.proposal.Proposal`).
- :func:`propose` reads that folder as data, pushes the branch and opens the one pull request, or updates it while
  it is open; it pushes nothing when the open pull request already holds the same update, and never pushes over
  commits that someone else added to the branch.

:func:`link_answers` writes the answers file that lets a repository made with GitHub's "Use this template" join
the update path. The pure parts (the changelog excerpt, the proposal, its text, the decision) are in
:mod:`slipway.template.changelog` and :mod:`slipway.template.proposal`.
"""

from __future__ import annotations

import json
import posixpath
import re
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

from slipway.adapters.commands import CommandError, run_command
from slipway.adapters.git import show_file
from slipway.adapters.github import run_url, write_outputs
from slipway.template.changelog import changelog_excerpt, is_release
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
    commit_message,
    conflicted_files,
    decide,
    pr_body,
)

ANSWERS_FILE = ".copier-answers.yml"
DEFAULT_BRANCH = "template-update"
CONFLICT_MARKERS = (b"<<<<<<< before updating", b">>>>>>> after updating")
SHORTCUTS = {"gh:": "https://github.com/", "gl:": "https://gitlab.com/"}
"""Copier's own prefixes for template URLs."""

Runner = Callable[[Sequence[str]], str]
Updater = Callable[[Path, str | None, str], None]
"""(project root, template ref or None for the latest release, conflict mode) -> None: runs ``copier update``."""


# --- pure ----------------------------------------------------------------------------------------------------------


def template_url(src_path: str) -> str:
    """Where git can clone the template from: Copier's ``gh:``/``gl:`` shortcuts expanded."""
    for prefix, base in SHORTCUTS.items():
        if src_path.startswith(prefix):
            return base + src_path[len(prefix) :]
    return src_path


def answers_text(src_path: str, version: str, answers: dict[str, str]) -> str:
    """The answers file Copier writes, for a project made from ``src_path`` at ``version`` with ``answers``."""
    data = {"_commit": version, "_src_path": src_path, **dict(sorted(answers.items()))}
    return "# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY\n" + yaml.safe_dump(
        data, sort_keys=False, allow_unicode=True
    )


# --- I/O -----------------------------------------------------------------------------------------------------------


def _run(command: Sequence[str], cwd: Path) -> str:
    """A command's output; a failure is a TemplateError (one redacted line)."""
    try:
        return run_command(command, cwd).stdout
    except CommandError as error:
        raise TemplateError(str(error)) from None


def read_answers(root: Path) -> dict[str, Any] | None:
    """The project's Copier answers, or None when it has no answers file (the template itself, or not linked)."""
    path = root / ANSWERS_FILE
    if not path.exists():
        return None
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict) or not data.get("_src_path") or not data.get("_commit"):
        raise TemplateError(f"{ANSWERS_FILE} names no template (_src_path) or version (_commit)")
    return data


def copier_update(root: Path, vcs_ref: str | None, conflict: str) -> None:
    """``copier update --defaults --trust`` in ``root`` (latest release when ``vcs_ref`` is None)."""
    from copier import run_update

    try:
        run_update(
            dst_path=root,
            vcs_ref=vcs_ref,
            defaults=True,
            overwrite=True,
            conflict=conflict,  # type: ignore[arg-type]
            unsafe=True,  # the template's task writes the answers into params.yaml and .dvc/config
        )
    except Exception as error:  # copier raises many kinds; the message is what a person needs
        raise TemplateError(f"copier update failed: {error}") from None


def template_file(src_path: str, ref: str, name: str) -> str:
    """``name`` as it is in the template at ``ref`` ("" when it has none)."""
    with tempfile.TemporaryDirectory(prefix="slipway-template-") as folder:
        _run(["git", "clone", "--quiet", "--no-checkout", template_url(src_path), folder], Path(folder))
        return show_file(ref, name, folder) or ""


def _conflicts(root: Path, git: Runner) -> list[str]:
    unmerged = git(["git", "diff", "--name-only", "--diff-filter=U"]).split()
    status = git(["git", "status", "--porcelain", "--ignored", "--untracked-files=all"]).splitlines()
    rejects = [line[3:] for line in status if line[3:].endswith(".rej")]
    changed = [line[3:] for line in status if not line.startswith("!!")]
    marked = []
    for name in changed:
        path = root / name
        if path.is_file() and any(line.rstrip() in CONFLICT_MARKERS for line in path.read_bytes().splitlines()):
            marked.append(name)
    return conflicted_files(unmerged, rejects, marked)


def prepare_update(
    root: Path,
    out_dir: Path,
    branch: str = DEFAULT_BRANCH,
    vcs_ref: str | None = None,
    conflict: str = "inline",
    run_url: str = "",
    updater: Updater = copier_update,
    changelog: Callable[[str, str], str] | None = None,
    runner: Runner | None = None,
) -> Proposal | None:
    """Run the update on ``branch`` (made afresh from HEAD) and write the proposal to ``out_dir``; None when the
    project is already at that version (nothing changed). Raises TemplateError when there is no answers file."""
    git = runner or (lambda command: _run(command, root))
    answers = read_answers(root)
    if answers is None:
        raise TemplateError(f"no {ANSWERS_FILE}: not a project made from the template")
    if git(["git", "status", "--porcelain"]).strip():
        raise TemplateError("the project has uncommitted changes: commit or stash them first")
    old = str(answers["_commit"])
    base = git(["git", "rev-parse", "HEAD"]).strip()
    started_on = git(["git", "rev-parse", "--abbrev-ref", "HEAD"]).strip()
    git(["git", "switch", "--quiet", "-C", branch])

    def back() -> None:  # the tree was clean: whatever is here now came from the update
        git(["git", "reset", "--quiet", "--hard"])
        git(["git", "clean", "-fdq"])
        git(["git", "switch", "--quiet", *(["--detach", base] if started_on == "HEAD" else [started_on])])
        git(["git", "branch", "--quiet", "-D", branch])

    try:
        updater(root, vcs_ref, conflict)
    except TemplateError:
        back()
        raise
    if not git(["git", "status", "--porcelain"]).strip():
        back()
        return None
    conflicts = _conflicts(root, git)
    new = str((read_answers(root) or {}).get("_commit", vcs_ref or "?"))
    git(["git", "add", "-A"])
    changed = git(["git", "diff", "--cached", "--name-only"]).split()
    proposal = Proposal(branch, base, old, new, conflicts, changed)
    git(["git", "commit", "--quiet", "--no-verify", "-m", commit_message(proposal)])
    out_dir.mkdir(parents=True, exist_ok=True)
    git(["git", "bundle", "create", str((out_dir / BUNDLE).resolve()), f"refs/heads/{branch}", f"^{base}"])
    read_changelog = changelog or (lambda src, ref: template_file(src, ref, "CHANGELOG.md"))
    excerpt = changelog_excerpt(read_changelog(str(answers["_src_path"]), new), old, new)
    (out_dir / BODY).write_text(pr_body(proposal, excerpt, conflict, run_url))
    (out_dir / PROPOSAL).write_text(proposal.to_json())
    return proposal


def update_project(
    root: Path,
    out_dir: Path,
    branch: str = DEFAULT_BRANCH,
    vcs_ref: str | None = None,
    conflict: str = "inline",
    log: Callable[[str], None] = print,
) -> Proposal | None:
    """``slipway template-update``: :func:`prepare_update`, saying what happened, and the step outputs the workflow
    reads (``changed``, ``conflicts``). None when there is nothing to propose (no answers file, or up to date)."""
    if read_answers(root) is None:
        log(
            f"no {ANSWERS_FILE} here, so nothing to update: this is the template itself, or a repository made with "
            "'Use this template' that has not joined yet (slipway template-link)."
        )
        write_outputs({"changed": "false"})
        return None
    proposal = prepare_update(root, out_dir, branch, vcs_ref, conflict, run_url())
    if proposal is None:
        log("the project is up to date with the template; nothing to propose")
        write_outputs({"changed": "false"})
        return None
    log(f"{proposal.title} on branch {proposal.branch}")
    for path in proposal.conflicts:
        log(f"conflict in {path}")
    write_outputs({"changed": "true", "conflicts": str(len(proposal.conflicts))})
    return proposal


def _remote_branch(branch: str, git: Runner) -> RemoteBranch | None:
    """Fetch the remote's update branch; None when the remote has none."""
    if not git(["git", "ls-remote", "--heads", "origin", f"refs/heads/{branch}"]).strip():
        return None
    ref = f"refs/remotes/origin/{branch}"
    git(["git", "fetch", "--quiet", "--no-tags", "origin", f"+refs/heads/{branch}:{ref}"])
    message = git(["git", "log", "-1", "--format=%B", ref])
    found = re.search(rf"^{TRAILER}: (\S+)$", message, re.MULTILINE)
    return RemoteBranch(git(["git", "rev-parse", f"{ref}^{{tree}}"]).strip(), found.group(1) if found else "")


def _open_pull_request(branch: str, git: Runner) -> int | None:
    listed = git(["gh", "pr", "list", "--head", branch, "--state", "open", "--json", "number"])
    numbers = [int(item["number"]) for item in json.loads(listed or "[]")]
    return min(numbers) if numbers else None


def propose(root: Path, out_dir: Path, base: str = "main", runner: Runner | None = None) -> tuple[Action, str]:
    """Push the prepared branch and open or update its pull request, as :func:`decide` says; (action, message)."""
    git = runner or (lambda command: _run(command, root))
    try:
        proposal = Proposal.from_json((out_dir / PROPOSAL).read_text())
        body = (out_dir / BODY).read_text()[:BODY_LIMIT]
    except (OSError, ValueError) as error:
        raise TemplateError(
            f"{out_dir} holds no prepared update (run `slipway template-update` first): {error}"
        ) from None
    if not re.fullmatch(r"[A-Za-z0-9._/-]+", proposal.branch) or proposal.branch in ("main", base):
        raise TemplateError(f"{PROPOSAL}: {proposal.branch!r} is not an update branch")
    bundle = str((out_dir / BUNDLE).resolve())
    git(["git", "bundle", "verify", "--quiet", bundle])
    local = f"refs/slipway/{proposal.branch}"
    git(["git", "fetch", "--quiet", "--no-tags", bundle, f"+refs/heads/{proposal.branch}:{local}"])
    tree = git(["git", "rev-parse", f"{local}^{{tree}}"]).strip()
    git(["gh", "auth", "setup-git"])
    remote = _remote_branch(proposal.branch, git)
    number = _open_pull_request(proposal.branch, git)
    action = decide(number, remote, tree, proposal.new_version)
    if action is Action.FOREIGN:
        return action, f"{proposal.branch} has commits that are not this update's: left as it is"
    if action is Action.NOTHING:
        return action, f"pull request #{number} already proposes this update: nothing to do"
    if action is Action.DECLINED:
        return action, (
            f"{proposal.new_version} was proposed on {proposal.branch} and its pull request was closed: not proposed "
            f"again (delete the branch {proposal.branch} to have it proposed again)"
        )
    _push(proposal, local, git)
    if action is Action.UPDATE:
        git(["gh", "pr", "edit", str(number), "--title", proposal.title, "--body", body])
        return action, f"updated pull request #{number}: {proposal.title}"
    command = ["gh", "pr", "create", "--base", base, "--head", proposal.branch, "--title", proposal.title]
    url = git([*command, "--body", body]).strip()
    return action, f"opened {url}: {proposal.title}"


def _push(proposal: Proposal, local: str, git: Runner) -> None:
    try:
        git(["git", "push", "--quiet", "--force", "origin", f"{local}:refs/heads/{proposal.branch}"])
    except TemplateError as error:
        workflows = [path for path in proposal.changed if path.startswith(".github/workflows/")]
        hint = (
            f"; the update changes {', '.join(workflows)}, and GitHub refuses workflow changes pushed with "
            "GITHUB_TOKEN: set the SLIPWAY_BOT_TOKEN secret (docs/upgrading.md)"
            if workflows
            else ""
        )
        raise TemplateError(f"{error}{hint}") from None


def current_answers(root: Path) -> dict[str, str]:
    """The template's questions answered from the project's files as they are (params.yaml, .dvc/config)."""
    import configparser

    answers: dict[str, str] = {}
    params = yaml.safe_load((root / "params.yaml").read_text()) or {}
    for name, (section, key) in {"image_repository": ("deploy", "image"), "report_title": ("report", "title")}.items():
        value = (params.get(section) or {}).get(key)
        if isinstance(value, str):
            answers[name] = value
    config = configparser.ConfigParser()
    config.read(root / ".dvc" / "config")
    remote = config.get("core", "remote", fallback="")
    url = config.get(f"'remote \"{remote}\"'", "url", fallback="") if remote else ""
    if url:
        is_folder = "://" not in url and not posixpath.isabs(url)
        answers["dvc_remote_url"] = posixpath.normpath(posixpath.join(".dvc", url)) if is_folder else url
    return answers


def link_answers(root: Path, src_path: str, version: str, force: bool = False) -> Path:
    """Write the answers file of a repository made with "Use this template" from ``src_path`` at ``version``."""
    if not src_path.strip():
        raise TemplateError("--template: say where the template lives, e.g. gh:acme/slipway")
    if not is_release(version):
        raise TemplateError(f"--version {version!r}: give the release the repository was made from, e.g. v0.1.0")
    path = root / ANSWERS_FILE
    if path.exists() and not force:
        raise TemplateError(f"{ANSWERS_FILE} exists already: this project is linked (--force replaces it)")
    try:
        path.write_text(answers_text(src_path, version, current_answers(root)))
    except OSError as error:
        raise TemplateError(f"cannot write {ANSWERS_FILE} from this project's files: {error}") from None
    return path
