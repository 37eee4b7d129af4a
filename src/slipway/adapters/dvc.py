"""Is the DVC remote there? DVC itself reports an unreachable remote as files "missing on the remote" (and
``dvc pull --allow-missing`` as success), so the places that need the remote ask here and name it instead:
``DVC remote 'embedded' at /srv/dvc-storage is unreachable: no such folder``. URLs are shown without
credentials."""

from __future__ import annotations

import os
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import yaml

from slipway.adapters.commands import redact


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
        context = None if remote.ssl_verify else ssl._create_unverified_context()  # the remote's own ssl_verify
        parts = urllib.parse.urlsplit(url)
        bare = parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]).geturl()  # the probe sends no credentials
        try:
            with urllib.request.urlopen(urllib.request.Request(bare, method="HEAD"), timeout=timeout, context=context):
                return None
        except urllib.error.HTTPError:
            return None  # a server answered: reachable (HTTP remotes often answer 404/405 for the folder itself)
        except (urllib.error.URLError, OSError) as error:
            return str(getattr(error, "reason", None) or error)
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


def dvc_tracked_md5(dvc_file: Path | str) -> str | None:
    """The hash recorded in a ``.dvc`` file (e.g. ``data.dvc``), if there is one."""
    path = Path(dvc_file)
    if not path.exists():
        return None
    outs = (yaml.safe_load(path.read_text()) or {}).get("outs") or [{}]
    return outs[0].get("md5")
