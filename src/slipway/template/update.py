"""Keep a project made from the Slipway template current: ``copier update`` on a branch, then one pull request.

Two steps, so that the template's code (Copier runs its tasks) never runs where a write token is:

- :func:`prepare_update` runs ``copier update`` (a three-way merge that keeps the project's own changes) on a fresh
  branch from the current commit, commits the result, conflicts included as they are, and writes a git bundle of
  that commit plus the pull request's title and text to a folder (:class:`Proposal`).
- :func:`propose` reads that folder as data, pushes the branch and opens the one pull request, or updates it while
  it is open; it pushes nothing when the open pull request already holds the same update, and never pushes over
  commits that someone else added to the branch.

:func:`link_answers` writes the answers file that lets a repository made with GitHub's "Use this template" join
the update path. Pure helpers (versions, the changelog excerpt, the pull request text, the decision) come first.
"""

from __future__ import annotations

import json
import posixpath
import re
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import yaml

ANSWERS_FILE = ".copier-answers.yml"
DEFAULT_BRANCH = "template-update"
TRAILER = "Slipway-Template-Update"
"""Commit trailer naming the version: marks the branch's commits as this tool's own."""
BUNDLE, PROPOSAL, BODY = "update.bundle", "proposal.json", "body.md"
BODY_LIMIT = 60_000  # GitHub refuses pull request bodies over 65,536 characters
CONFLICT_MARKERS = (b"<<<<<<< before updating", b">>>>>>> after updating")
SHORTCUTS = {"gh:": "https://github.com/", "gl:": "https://gitlab.com/"}
"""Copier's own prefixes for template URLs."""
SEMVER = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:-(\d+)-g[0-9a-f]+)?$")

Runner = Callable[[Sequence[str]], str]
Updater = Callable[[Path, str | None, str], None]
"""(project root, template ref or None for the latest release, conflict mode) -> None: runs ``copier update``."""


class TemplateError(RuntimeError):
    """An expected failure, with a message a person can act on."""


# --- pure ----------------------------------------------------------------------------------------------------------


def version_key(ref: str) -> tuple[int, int, int] | None:
    """``v1.2.3`` (or ``1.2.3``, or git describe's ``v1.2.3-4-gabc123``) -> (1, 2, 3); None for anything else."""
    match = SEMVER.match(ref.strip())
    return (int(match.group(1)), int(match.group(2)), int(match.group(3))) if match else None


def is_release(ref: str) -> bool:
    """A tag such as ``v1.2.3``, not a commit after it (``v1.2.3-4-gabc123``)."""
    match = SEMVER.match(ref.strip())
    return bool(match) and match.group(4) is None  # type: ignore[union-attr]


def changelog_sections(text: str) -> list[tuple[str, str]]:
    """The ``## `` sections of a changelog, in order: (heading, the section's markdown including its heading)."""
    parts = re.split(r"(?m)^(?=## )", text)
    return [(part.splitlines()[0][3:].strip(), part.rstrip() + "\n") for part in parts if part.startswith("## ")]


def changelog_excerpt(text: str, old: str, new: str) -> str:
    """The sections of the versions after ``old`` up to ``new``, newest first (as the changelog lists them), and
    the "Unreleased" section when ``new`` is a commit past its release."""
    low, high = version_key(old), version_key(new)
    chosen = []
    for heading, section in changelog_sections(text):
        version = version_key(heading.split()[0].strip("[]")) if heading else None
        if version is None:
            if heading.lower().startswith("unreleased") and high is not None and not is_release(new):
                chosen.append(section)
            continue
        if (low is None or version > low) and (high is None or version <= high):
            chosen.append(section)
    return "\n".join(chosen)


@dataclass(frozen=True)
class Proposal:
    """What :func:`prepare_update` made, for :func:`propose`: the branch, the versions and what the update did."""

    branch: str
    base: str
    old_version: str
    new_version: str
    conflicts: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        mark = " (conflicts to resolve)" if self.conflicts else ""
        return f"Slipway template update: {self.old_version} -> {self.new_version}{mark}"

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Proposal:
        data = json.loads(text)
        try:
            return cls(
                branch=str(data["branch"]),
                base=str(data["base"]),
                old_version=str(data["old_version"]),
                new_version=str(data["new_version"]),
                conflicts=[str(path) for path in data.get("conflicts", [])],
                changed=[str(path) for path in data.get("changed", [])],
            )
        except (KeyError, TypeError) as error:
            raise TemplateError(f"{PROPOSAL} is not a template update proposal: {error}") from None


def _listing(paths: Sequence[str], limit: int = 60) -> list[str]:
    lines = [f"- `{path}`" for path in paths[:limit]]
    if len(paths) > limit:
        lines.append(f"- ... and {len(paths) - limit} more")
    return lines


def pr_body(proposal: Proposal, excerpt: str, conflict_mode: str = "inline", run_url: str = "") -> str:
    """The pull request's text: conflicts first (if any), the template's changelog between the versions, what to
    check before merging, the files it changes. Bounded to what GitHub accepts."""
    lines = [
        f"## Slipway template update: `{proposal.old_version}` -> `{proposal.new_version}`",
        "",
        "`copier update` brought the template's changes into this project with a three-way merge that keeps this "
        "project's own changes (params, schema, data, tests, code).",
        "",
    ]
    if proposal.conflicts:
        how = (
            "hold conflict markers (`<<<<<<< before updating` ... `>>>>>>> after updating`)"
            if conflict_mode == "inline"
            else "hold the template's version; this project's change that did not apply is in a `.rej` file next to "
            "each (apply it again by hand, then delete the `.rej`)"
        )
        lines += [
            f"### Conflicts to resolve ({len(proposal.conflicts)})",
            "",
            f"The template and this project changed the same lines. These files {how}; nothing was chosen for you:",
            "",
            *_listing(proposal.conflicts),
            "",
            "Resolve each on this branch and push (docs/upgrading.md, *Resolve a conflict*); the checks fail until "
            "then.",
            "",
        ]
    lines += [
        "### What changed, and what to do (the template's CHANGELOG)",
        "",
        excerpt.strip() or "_The template's changelog has no entry for these versions._",
        "",
        "### Before merging",
        "",
        "- The pull request's report compares the model trained with this update against `main`: check it.",
        "- If the update changes the pipeline's code or params, run `dvc repro` on this branch and commit "
        "`dvc.lock` (and `outputs/metrics.json`): `main` refuses a stale lock.",
        "",
        f"<details><summary>Files changed ({len(proposal.changed)})</summary>",
        "",
        *_listing(proposal.changed, 200),
        "",
        "</details>",
    ]
    if run_url:
        lines += ["", f"Prepared by {run_url}"]
    body = "\n".join(lines) + "\n"
    if len(body) > BODY_LIMIT:
        body = body[: BODY_LIMIT - 200] + "\n\n... (cut: the full changelog is the template's CHANGELOG.md)\n"
    return body


def commit_message(proposal: Proposal) -> str:
    return f"{proposal.title}\n\n{TRAILER}: {proposal.new_version}\n"


def conflicted_files(unmerged: Sequence[str], rejects: Sequence[str], marked: Sequence[str]) -> list[str]:
    """Files with a conflict: unmerged in the index, with a ``.rej`` beside them, or holding Copier's markers."""
    found = {*unmerged, *marked, *(path.removesuffix(".rej") for path in rejects)}
    return sorted(found)


class Action(Enum):
    CREATE = "create"  # push the branch, open the pull request
    UPDATE = "update"  # push the branch, update the open pull request's title and text
    NOTHING = "nothing"  # the open pull request already holds this update
    DECLINED = "declined"  # this version was proposed and its pull request closed: not proposed again
    FOREIGN = "foreign"  # someone added commits to the branch: leave it alone


@dataclass(frozen=True)
class RemoteBranch:
    """The update branch as the remote has it."""

    tree: str
    version: str  # the TRAILER value of its last commit; "" when that commit is not this tool's


def decide(open_pr: int | None, remote: RemoteBranch | None, tree: str, version: str) -> Action:
    """What to do with the prepared update, given the open pull request (if any) and the remote branch (if any)."""
    if remote is not None and not remote.version:
        return Action.FOREIGN
    if open_pr is not None:
        return Action.NOTHING if remote is not None and remote.tree == tree else Action.UPDATE
    if remote is not None and remote.version == version:
        return Action.DECLINED
    return Action.CREATE


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
    result = subprocess.run(list(command), cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise TemplateError(
            f"`{' '.join(command[:3])} ...` failed ({result.returncode}): {result.stderr.strip()[-1500:]}"
        )
    return result.stdout


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
        result = subprocess.run(["git", "show", f"{ref}:{name}"], cwd=folder, capture_output=True, text=True)
        return result.stdout if result.returncode == 0 else ""


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
    proposal = Proposal.from_json((out_dir / PROPOSAL).read_text())
    body = (out_dir / BODY).read_text()[:BODY_LIMIT]
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
    path.write_text(answers_text(src_path, version, current_answers(root)))
    return path
