"""Posting the report as the pull request's one sticky comment, from the ``workflow_run`` workflow.

That workflow runs no pull-request code and holds the write token, so nothing it is handed by the pull request is
trusted: the report artifact is checked first (``slipway.review.report_artifact``), and the pull request is named
by the event (``workflow_run.pull_requests``) or, where GitHub lists none (a fork's run), found by the run's head
commit through the API, and in every case checked against it. The artifact's content never chooses the target.
The PNGs go where ``report.images`` says: this repository's image branch, CML's asset host, or nowhere; the
comment is then posted by ``cml comment update --no-publish`` (CML itself uploads nothing).
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slipway.adapters.commands import CommandError, run_command
from slipway.review.image_branch import ImageBranch, ImageBranchError, image_folder, image_url
from slipway.review.report_artifact import LINK_PATTERNS, CheckedReport, check_report_folder, is_local

if TYPE_CHECKING:
    from slipway.config import ReportConfig

GitHubApi = Callable[[list[str]], Any]
"""``gh api <args>`` parsed as JSON (a stand-in in tests)."""

_SHA = re.compile(r"[0-9a-f]{40}")
_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_IMAGE = re.compile(r"!\[([^\]]*)\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")


class CommentError(RuntimeError):
    """The comment cannot be posted (no matching pull request, a failed API call); one line, no credentials."""


@dataclass(frozen=True)
class RunContext:
    """What the ``workflow_run`` event says about the finished pull-request run (trusted: GitHub wrote it)."""

    repository: str
    head_sha: str
    head_repository: str
    pull_requests: list[dict[str, Any]] = field(default_factory=list)
    event: str = "pull_request"
    run_url: str = ""
    server_url: str = "https://github.com"


@dataclass(frozen=True)
class Target:
    """The pull request to comment on, and whether the run's commit is still its head."""

    number: int
    head_sha: str
    """The commit the report is for."""
    current: bool
    """Whether that commit is still the pull request's head (an older run's report must not replace a newer one)."""
    found_by: str


# ---------------------------------------------------------------- which pull request (pure)


def repository_of(repo: Mapping[str, Any] | None) -> str:
    """``owner/name`` of a repository object: its ``full_name``, or the tail of its API ``url`` (the short form
    ``workflow_run.pull_requests`` uses)."""
    if not repo:
        return ""
    if repo.get("full_name"):
        return str(repo["full_name"])
    url = str(repo.get("url") or "")
    return url.split("/repos/", 1)[1] if "/repos/" in url else ""


def event_numbers(run: RunContext) -> list[int]:
    """Pull requests the event lists for the run whose head is the run's commit, into this repository."""
    return sorted(
        {
            int(pr["number"])
            for pr in run.pull_requests
            if (pr.get("head") or {}).get("sha") == run.head_sha
            and repository_of((pr.get("base") or {}).get("repo")) == run.repository
        }
    )


def matches_run(pull: Mapping[str, Any], run: RunContext) -> bool:
    """A full pull-request object is the run's: same head commit, from the run's head repository, into this one."""
    head, base = pull.get("head") or {}, pull.get("base") or {}
    return (
        head.get("sha") == run.head_sha
        and repository_of(head.get("repo")) == run.head_repository
        and repository_of(base.get("repo")) == run.repository
    )


def only_one(numbers: list[int], run: RunContext, where: str) -> int:
    if not numbers:
        raise CommentError(
            f"no pull request from {run.head_repository} into {run.repository} has head {run.head_sha[:12]} "
            f"({where}): nothing posted"
        )
    if len(numbers) > 1:
        listed = ", ".join(f"#{n}" for n in numbers)
        raise CommentError(f"commit {run.head_sha[:12]} is the head of {listed}; not choosing one: nothing posted")
    return numbers[0]


# ---------------------------------------------------------------- which pull request (GitHub API)


def gh_api(token: str) -> GitHubApi:
    """``gh api`` with ``token``, JSON out; a failure raises CommentError with gh's message (token masked)."""

    def call(args: list[str]) -> Any:
        try:
            result = run_command(["gh", "api", *args], env={"GH_TOKEN": token}, secrets=[token])
        except CommandError as error:
            raise CommentError(str(error)) from None
        return json.loads(result.stdout) if result.stdout.strip() else None

    return call


def find_pull_request(run: RunContext, api: GitHubApi) -> Target:
    """The pull request the run was for: named by the event, else looked up by the run's head commit (the
    commit's pull requests, then the search API), then read back and checked against the run."""
    if run.event != "pull_request":
        raise CommentError(f"the finished run was for a {run.event!r} event, not a pull request: nothing posted")
    if not _SHA.fullmatch(run.head_sha) or not _REPOSITORY.fullmatch(run.repository):
        raise CommentError(f"the event names no commit or repository ({run.head_sha!r}, {run.repository!r})")
    numbers, found_by = event_numbers(run), "the event"
    if not numbers:
        found_by = "the commit's pull requests"
        listed = api([f"repos/{run.repository}/commits/{run.head_sha}/pulls"]) or []
        numbers = sorted({int(pr["number"]) for pr in listed if matches_run(pr, run)})
    if not numbers:
        found_by = "a search by commit"
        query = f"q=repo:{run.repository} is:pr {run.head_sha}"
        items = (api(["-X", "GET", "search/issues", "-f", query]) or {}).get("items") or []
        candidates = sorted({int(item["number"]) for item in items})
        numbers = [n for n in candidates if matches_run(api([f"repos/{run.repository}/pulls/{n}"]) or {}, run)]
    number = only_one(numbers, run, found_by)
    pull = api([f"repos/{run.repository}/pulls/{number}"]) or {}
    head, base = pull.get("head") or {}, pull.get("base") or {}
    if repository_of(head.get("repo")) != run.head_repository or repository_of(base.get("repo")) != run.repository:
        raise CommentError(f"pull request #{number} is not from {run.head_repository} into {run.repository}")
    return Target(number, run.head_sha, head.get("sha") == run.head_sha, found_by)


def open_pull_requests(repository: str, api: GitHubApi) -> set[int]:
    """Numbers of the repository's open pull requests."""
    pages = api(["--paginate", "--slurp", f"repos/{repository}/pulls?state=open&per_page=100"]) or []
    return {int(pull["number"]) for page in pages for pull in page}


# ---------------------------------------------------------------- the markdown (pure)


def rewrite_links(markdown: str, urls: Mapping[str, str]) -> str:
    """Every local link to one of the report's images pointed at its published address."""

    def swap(match: re.Match[str]) -> str:
        prefix, target = match.group(1), match.group(2)
        return prefix + urls.get(target, target) if is_local(target) else match.group(0)

    for pattern in LINK_PATTERNS:
        markdown = pattern.sub(swap, markdown)
    return markdown


def without_images(markdown: str, run_url: str) -> str:
    """The report with its local images replaced by their captions and a line saying where the PNGs are."""
    dropped = _IMAGE.sub(lambda m: f"*{m.group(1) or m.group(2)}*" if is_local(m.group(2)) else m.group(0), markdown)
    where = f"the `report` artifact of [the pull request's run]({run_url})" if run_url else "the `report` artifact"
    return f"{dropped.rstrip()}\n\n_The plots are not posted (`report.images: none`): they are in {where}._\n"


def cml_command(title: str, number: int, markdown_file: str) -> list[str]:
    """The sticky comment: one per pull request, found again by its watermark; ``--no-publish``: CML uploads none
    of the report's files (the links are already where ``report.images`` put them)."""
    return [
        "cml", "comment", "update", f"--target=pr/{number}", f"--watermark-title={title}", "--no-publish",
        markdown_file,
    ]  # fmt: skip


def publish_with_cml(images: Mapping[str, Path], token: str) -> dict[str, str]:
    """``report.images: cml``: each PNG uploaded to CML's asset host (a third party; anyone with a link sees it)."""
    urls = {}
    for name, path in images.items():
        try:
            done = run_command(["cml", "asset", "publish", str(path)], env={"REPO_TOKEN": token}, secrets=[token])
        except CommandError as error:
            raise CommentError(str(error)) from None
        said = done.stdout.strip().splitlines()
        if not said or not said[-1].startswith("https://"):
            raise CommentError(f"`cml asset publish {name}` gave no https address: {said[-1:]}")
        urls[name] = said[-1]
    return urls


def describe(checked: CheckedReport) -> str:
    ignored = f"; ignored (never read): {', '.join(checked.ignored)}" if checked.ignored else ""
    return f"report.md and {len(checked.images)} PNG image(s) passed the checks{ignored}"


# ---------------------------------------------------------------- posting (I/O)


def publish_images(
    checked: CheckedReport, target: Target, run: RunContext, report: ReportConfig, root: Path, token: str,
    api: GitHubApi,
) -> str:  # fmt: skip
    """Put the PNGs where ``report.images`` says and return the markdown that links them there."""
    if report.images == "none":
        return without_images(checked.markdown, run.run_url)
    if report.images == "cml":
        return rewrite_links(checked.markdown, publish_with_cml(checked.images, token))
    branch = ImageBranch(root, report.image_branch, token)
    folder = image_folder(target.number, target.head_sha)
    paths = branch.update(open_pull_requests(run.repository, api), target.number, folder, checked.images)
    urls = {name: image_url(run.server_url, run.repository, report.image_branch, p) for name, p in paths.items()}
    return rewrite_links(checked.markdown, urls)


def post_report(
    folder: Path, run: RunContext, report: ReportConfig, root: Path, token: str, api: GitHubApi,
    number: int | None = None,
) -> str:  # fmt: skip
    """Check the report folder, find the pull request, publish the images, post the sticky comment; returns what
    was done. Raises ReportRefused (the artifact) or CommentError (GitHub, git, CML) before anything is posted."""
    checked = check_report_folder(folder)
    if number is None:
        target = find_pull_request(run, api)
    else:  # given by hand: the pull request's current head is the commit
        head = (api([f"repos/{run.repository}/pulls/{number}"]) or {}).get("head") or {}
        target = Target(number, str(head.get("sha") or ""), True, "--pull-request")
        if not _SHA.fullmatch(target.head_sha):
            raise CommentError(f"pull request #{number} was not found in {run.repository!r}")
    if not target.current:
        return (
            f"not posted: pull request #{target.number} has moved past {target.head_sha[:12]}; "
            f"its newer run posts its own report"
        )
    try:
        markdown = publish_images(checked, target, run, report, root, token, api)
    except ImageBranchError as error:
        raise CommentError(f"pushing the images to {report.image_branch}: {error}") from None
    with tempfile.TemporaryDirectory() as scratch:
        (Path(scratch) / "report.md").write_text(markdown)
        command = cml_command(report.title, target.number, "report.md")
        try:
            run_command(command, scratch, env={"REPO_TOKEN": token}, secrets=[token])
        except CommandError as error:
            raise CommentError(str(error)) from None
    return (
        f"posted the report on pull request #{target.number} (found by {target.found_by}), images: {report.images}; "
        f"{describe(checked)}"
    )
