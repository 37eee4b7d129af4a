"""Reading other revisions of the repository from git: a file at a revision (the one reader of one), and the base
branch of a pull request.

The base is looked up as ``origin/<base>`` (a checkout with ``fetch-depth: 0``), then as a local branch, and
else fetched shallowly into ``refs/remotes/origin/<base>``. Light on imports (used by ``slipway gate``)."""

from __future__ import annotations

import json
import logging
import subprocess
from pathlib import Path
from typing import Any

from slipway.adapters.commands import CommandError, as_bytes, run_command

log = logging.getLogger("slipway.adapters.git")


def run_git(args: list[str], root: Path) -> subprocess.CompletedProcess[str]:
    """``git <args>`` in ``root``, whatever its exit code (callers read it)."""
    return run_command(["git", *args], root, check=False)


def resolve_base(ref: str, root: Path) -> str | None:
    """Commit of the base ref: origin/<ref>, <ref>, or else fetched shallowly into refs/remotes/origin/<ref>."""
    candidates = [f"refs/remotes/origin/{ref}", f"refs/heads/{ref}", ref]
    for candidate in candidates:
        found = run_git(["rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}"], root)
        if found.returncode == 0:
            return found.stdout.strip()
    try:
        refspec = f"+refs/heads/{ref}:refs/remotes/origin/{ref}"
        run_command(["git", "fetch", "--no-tags", "--depth=1", "origin", refspec], root)
    except CommandError as error:
        log.warning("base %s not found locally and could not be fetched: %s", ref, error)
        return None
    found = run_git(["rev-parse", "--verify", "--quiet", f"refs/remotes/origin/{ref}^{{commit}}"], root)
    return found.stdout.strip() if found.returncode == 0 else None


def show_bytes(revision: str, path: str, root: Path | str) -> bytes | None:
    """A git-tracked file's exact bytes at a revision (commit, tag or branch); None when the revision or the file
    is not there, or ``path`` is a folder."""
    shown = run_git(["cat-file", "blob", f"{revision}:{path}"], Path(root))
    return as_bytes(shown.stdout) if shown.returncode == 0 else None


def show_file(revision: str, path: str, root: Path | str) -> str | None:
    """A git-tracked file's text at a revision (UTF-8; None as for :func:`show_bytes`)."""
    found = show_bytes(revision, path, root)
    return None if found is None else found.decode("utf-8", errors="replace")


def json_at(sha: str | None, path: str, root: Path | str) -> Any:
    """A git-tracked JSON file at a commit, or None (no commit, no file, not JSON)."""
    if sha is None:
        return None
    text = show_file(sha, path, root)
    try:
        return None if text is None else json.loads(text)
    except json.JSONDecodeError:
        return None
