"""The report's PNGs on a branch of the repository itself (``report.images: github``).

The branch holds one folder per open pull request, ``pr-<N>/<head sha>/<image>.png``, and nothing else: each
update replaces the PR's folder (the head sha in the path keeps GitHub's image cache from showing old plots),
drops the folders of pull requests that are no longer open, and is pushed as a single commit without parents
(force, with a lease on the commit it replaced), so pruned images leave the branch's history too. The commit is
built with git's plumbing in a scratch index: the checkout's work tree and index are never touched. The token
reaches git as an HTTP header in the environment (never on the command line).
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from slipway.adapters.commands import CommandError, git_auth_env, run_command

log = logging.getLogger("slipway.review.image_branch")
_FOLDER = re.compile(r"pr-(\d+)")
BOT_IDENTITY = {
    "GIT_AUTHOR_NAME": "github-actions[bot]",
    "GIT_AUTHOR_EMAIL": "41898282+github-actions[bot]@users.noreply.github.com",
    "GIT_COMMITTER_NAME": "github-actions[bot]",
    "GIT_COMMITTER_EMAIL": "41898282+github-actions[bot]@users.noreply.github.com",
}


class ImageBranchError(RuntimeError):
    """Reading or pushing the image branch failed; the message is one line, without credentials."""


@dataclass(frozen=True)
class Entry:
    """One file of a tree: git mode, blob id, path."""

    mode: str
    blob: str
    path: str


def image_folder(pull_request: int, head_sha: str) -> str:
    return f"pr-{pull_request}/{head_sha}"


def image_url(server: str, repository: str, branch: str, path: str) -> str:
    """The address GitHub serves a file of the branch at, to readers of the repository (``?raw=true``: the file
    itself, not its page)."""
    return f"{server.rstrip('/')}/{repository}/blob/{quote(branch)}/{quote(path)}?raw=true"


def kept_entries(entries: Iterable[Entry], open_pull_requests: set[int], replaced: int | None) -> list[Entry]:
    """The entries that stay: those under ``pr-<N>/`` of an open pull request other than ``replaced``. Anything
    else on the branch (closed PRs' folders, stray files) is pruned."""
    kept = []
    for entry in entries:
        found = _FOLDER.fullmatch(entry.path.split("/", 1)[0])
        if found and "/" in entry.path and int(found[1]) in open_pull_requests and int(found[1]) != replaced:
            kept.append(entry)
    return kept


def parse_ls_tree(text: str) -> list[Entry]:
    """``git ls-tree -r`` output (``<mode> blob <id>\\t<path>``) as entries."""
    entries = []
    for line in text.splitlines():
        meta, _, path = line.partition("\t")
        mode, kind, blob = meta.split()
        if kind == "blob":
            entries.append(Entry(mode, blob, path))
    return entries


class ImageBranch:
    """The image branch of ``remote`` (default ``origin``), worked on from the git repository at ``root``."""

    def __init__(self, root: Path, branch: str, token: str | None, remote: str = "origin") -> None:
        self.root, self.branch, self.remote, self._token = root, branch, remote, token or ""
        url = self._git("remote", "get-url", remote).strip()
        self._auth = git_auth_env(url, token, os.environ)

    def _run(self, args: list[str], env: Mapping[str, str] | None = None, input: str | None = None) -> str:
        return run_command(["git", *args], self.root, env=env, input=input, secrets=[self._token]).stdout

    def _git(self, *args: str, env: Mapping[str, str] | None = None, input: str | None = None) -> str:
        try:
            return self._run(list(args), env, input)
        except CommandError as error:
            raise ImageBranchError(str(error)) from None

    def fetch(self) -> str | None:
        """Fetch the branch's commit from the remote (None when the branch does not exist yet)."""
        ref = f"refs/heads/{self.branch}"
        try:
            self._run(["ls-remote", "--exit-code", self.remote, ref], env=self._auth)
        except CommandError as error:
            if error.returncode == 2:  # --exit-code: the remote answered, and it has no such branch
                return None
            raise ImageBranchError(str(error)) from None
        local = "refs/slipway/image-branch"
        self._git("fetch", "--quiet", "--no-tags", "--depth=1", self.remote, f"+{ref}:{local}", env=self._auth)
        return self._git("rev-parse", "--verify", f"{local}^{{commit}}").strip()

    def entries(self, commit: str | None) -> list[Entry]:
        return parse_ls_tree(self._git("ls-tree", "-r", "--full-tree", commit)) if commit else []

    def update(
        self, open_pull_requests: set[int], pull_request: int | None = None, folder: str = "",
        images: Mapping[str, Path] | None = None, attempts: int = 3,
    ) -> dict[str, str]:  # fmt: skip
        """Put ``images`` under ``folder`` as ``pull_request``'s only folder, prune every PR folder not in
        ``open_pull_requests``, and push if anything changed; returns image name -> path on the branch. When
        another run moved the branch in between (the lease fails), start again from its new commit."""
        blobs = {
            name: self._git("hash-object", "-w", "--", str(source)).strip() for name, source in (images or {}).items()
        }
        paths = {name: f"{folder}/{name}" for name in blobs}
        added = [Entry("100644", blob, paths[name]) for name, blob in blobs.items()]
        keep = open_pull_requests | ({pull_request} if pull_request is not None else set())
        for attempt in range(1, attempts + 1):
            old = self.fetch()
            previous = self.entries(old)
            entries = kept_entries(previous, keep, pull_request) + added
            if set(entries) == set(previous) and len(entries) == len(previous):
                return paths
            try:
                self._push(self._commit(entries, pull_request), old)
                return paths
            except ImageBranchError as error:
                if attempt == attempts:
                    raise ImageBranchError(f"{error} (tried {attempts} times)") from None
                log.info("%s moved while it was updated; starting again (%s)", self.branch, error)
        return paths

    def _commit(self, entries: list[Entry], pull_request: int | None) -> str:
        with tempfile.TemporaryDirectory() as scratch:
            index = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
            listing = "".join(f"{e.mode} {e.blob}\t{e.path}\n" for e in entries)
            self._git("update-index", "--add", "--index-info", env=index, input=listing)
            tree = self._git("write-tree", env=index).strip()
        what = f"images of pull request #{pull_request}" if pull_request is not None else "prune closed pull requests"
        return self._git("commit-tree", tree, "-m", f"Report images: {what}", env=BOT_IDENTITY).strip()

    def _push(self, commit: str, old: str | None) -> None:
        ref = f"refs/heads/{self.branch}"
        lease = f"--force-with-lease={ref}:{old or ''}"
        self._git("push", "--quiet", lease, self.remote, f"{commit}:{ref}", env=self._auth)
