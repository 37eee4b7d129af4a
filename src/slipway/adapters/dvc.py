"""DVC at the edge: is the remote there, the pipeline's status, fetching from any DVC URL (what a ``.dvc`` file
records is read in :mod:`slipway.adapters.dvc_files`, without DVC).

DVC itself reports an unreachable remote as files "missing on the remote" (and ``dvc pull --allow-missing`` as
success), so the places that need the remote ask here and name it instead:
``DVC remote 'embedded' at /srv/dvc-storage is unreachable: no such folder``. URLs are shown without
credentials."""

from __future__ import annotations

import os
import sys
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from slipway.adapters.commands import QUIET_TOOLS, CommandError, redact, run_command
from slipway.adapters.files import replace_on_success
from slipway.adapters.http import request


@dataclass(frozen=True)
class DvcRemote:
    name: str
    url: str
    """As DVC resolves it (a local folder is absolute)."""
    ssl_verify: bool = True

    @property
    def shown_url(self) -> str:
        return redact(self.url, [])


def find_remote(repo: Path | str, name: str | None = None) -> DvcRemote | None:
    """A remote of the DVC project in ``repo`` (the default one unless ``name``); None when there is none."""
    from dvc.repo import Repo

    with Repo(str(repo)) as project:
        config = project.config
        chosen = name or config.get("core", {}).get("remote")
        settings = (config.get("remote") or {}).get(chosen or "")
        if not chosen or not settings or not settings.get("url"):
            return None
        return DvcRemote(str(chosen), str(settings["url"]), settings.get("ssl_verify", True) is not False)


def unreachable_reason(remote: DvcRemote, repo: Path | str = ".", timeout: float = 10.0) -> str | None:
    """Why the remote cannot be reached, or None when it answers (whether it holds a given file is another matter)."""
    url = remote.url
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme in ("", "file", "local"):
        folder = Path(url.split("://", 1)[1] if scheme else url)
        if not folder.exists():
            return "no such folder"
        if not folder.is_dir():
            return "not a folder"
        return None if os.access(folder, os.R_OK | os.X_OK) else "the folder is not readable"
    if scheme in ("http", "https"):
        parts = urllib.parse.urlsplit(url)
        bare = parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]).geturl()  # the probe sends no credentials
        answer = request(bare, "HEAD", timeout=timeout, verify=remote.ssl_verify)  # the remote's own ssl_verify
        return None if answer.status else answer.error  # any answer (often 404/405 for the folder) is reachable
    return _reason_from_dvc(remote, repo)


def _reason_from_dvc(remote: DvcRemote, repo: Path | str) -> str | None:
    """Cloud remotes (s3, gs, azure, ssh...): ask DVC's own filesystem for the remote's root."""
    from dvc.repo import Repo

    try:
        with Repo(str(repo)) as project:
            found = project.cloud.get_remote(remote.name)
            return None if found.fs.exists(found.path) else "nothing there (no such bucket or folder)"
    except Exception as error:  # whatever the cloud library raises is the reason
        return " ".join(str(error).split()) or type(error).__name__


def remote_problem(repo: Path | str, name: str | None = None) -> str | None:
    """``DVC remote '<name>' at <url> is unreachable: <reason>``, or None when it is reachable (or not set)."""
    try:
        remote = find_remote(repo, name)
    except Exception:  # not a DVC project, or a config DVC cannot read: DVC's own error says more
        return None
    if remote is None:
        return None
    reason = unreachable_reason(remote, repo)
    return None if reason is None else f"DVC remote '{remote.name}' at {remote.shown_url} is unreachable: {reason}"


class DvcError(RuntimeError):
    """DVC could not do what was asked; the message says what (URLs without credentials)."""


def get_url(source: str, target: Path | str) -> None:
    """Copy a file or folder from any DVC URL (s3://, gs://, azure://, ssh://, http(s)://, a path) to ``target``,
    replacing what is there only once the copy is complete (a failed fetch leaves ``target`` as it was)."""
    with replace_on_success(target) as (written,):
        try:
            run_command([sys.executable, "-m", "dvc", "get-url", source, str(written)])
        except CommandError as error:
            raise DvcError(f"cannot fetch {redact(source, [])}: {error}") from None


def run_dvc(args: Sequence[str], env: Mapping[str, str]) -> int:
    """Run the ``dvc`` command line with ``args`` in this process (DVC's own entry point, as the ``dvc`` script
    does), its output on this process's streams; ``env`` is added to the environment the stage commands inherit.
    Its input is empty, as for any command this project runs: a question DVC asks on a terminal (may it go on
    without a directory's cache? may it run this stage, with ``--interactive``?) is answered no at once instead of
    waiting for a reader who is not there (a CI runner's terminal). Returns DVC's exit code (its errors are
    reported by DVC itself, as one line)."""
    from dvc.cli import main

    os.environ.update({**QUIET_TOOLS, **env})
    with open(os.devnull) as empty, _standard_input(empty):
        code: int = main(list(args))
    return code


@contextmanager
def _standard_input(stream: TextIO) -> Iterator[None]:
    """``stream`` as this process's standard input, descriptor 0 included (what its children inherit)."""
    saved, previous = os.dup(0), sys.stdin
    os.dup2(stream.fileno(), 0)
    sys.stdin = stream
    try:
        yield
    finally:
        os.dup2(saved, 0)
        os.close(saved)
        sys.stdin = previous


def pipeline_status(repo: Path | str) -> dict[str, Any]:
    """What ``dvc status --json`` reports for the project in ``repo``: each stage whose dependencies, outputs or
    command differ from dvc.lock, and how (empty when everything matches)."""
    from dvc.exceptions import DvcException
    from dvc.repo import Repo

    try:
        with Repo(str(repo)) as project:
            return dict(project.status())
    except DvcException as error:
        raise DvcError(f"dvc status in {repo}: {' '.join(str(error).split())}") from None
