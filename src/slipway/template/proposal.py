"""A template update as data: what :func:`slipway.template.update.prepare_update` made (:class:`Proposal`), the
pull request's text, and what to do with the prepared update given the remote (:func:`decide`). Pure."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from enum import Enum

TRAILER = "Slipway-Template-Update"
"""Commit trailer naming the version: marks the branch's commits as this tool's own."""
BUNDLE, PROPOSAL, BODY = "update.bundle", "proposal.json", "body.md"
BODY_LIMIT = 60_000  # GitHub refuses pull request bodies over 65,536 characters


class TemplateError(RuntimeError):
    """An expected failure, with a message a person can act on."""


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
