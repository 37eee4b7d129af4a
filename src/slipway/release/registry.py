"""The model registry: GTO git tags. The one place that knows the tag format and the versioning rule.

Tags (made and read by GTO):
  ``model@v1.4.0``    registers version v1.4.0 at the commit the tag points to (annotated; its message
                      records the model file's md5 as ``model_md5: <md5>``, and the md5 of every file of the model
                      folder that serving reads as ``file: <name> <md5>`` lines; older tags have only the first);
  ``model#prod#7``    the 7th stage assignment of the artifact: the version at that commit is in ``prod``.

Versioning rule: a new minor version is registered only when the served model changed: when a file of the model
folder differs from the latest registered version's (only the model file's md5 when that version recorded no
files). Saving is byte-reproducible, so retraining the same inputs changes nothing; otherwise nothing is
registered. The first version is v0.1.0.

The registry is read with GTO's Python API (``gto.api.show``) and written with the ``gto`` command (tags made
as git makes them, with the committer git is configured with). Lineage needs nothing else: the commit a version
tag points to holds dvc.lock (data hash), params.yaml and the metrics file, read back from git.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slipway.adapters.commands import CommandError, git_auth_env, run_command

DEFAULT_ARTIFACT = "model"


_NAME = r"[a-z][a-z0-9-]*[a-z0-9]|[a-z]"


_SEMVER = r"v(\d+)\.(\d+)\.(\d+)"


_VERSION_TAG = re.compile(rf"^(?P<artifact>{_NAME})@(?P<version>{_SEMVER})$")


_STAGE_TAG = re.compile(rf"^(?P<artifact>{_NAME})#(?P<stage>{_NAME})#(?P<counter>\d+)$")


_MD5_LINE = re.compile(r"^model_md5:\s*([0-9a-f]{32})\s*$", re.MULTILINE)


_FILE_LINE = re.compile(r"^file:\s*([A-Za-z0-9_][A-Za-z0-9_.-]*)\s+([0-9a-f]{32})\s*$", re.MULTILINE)


class RegistryError(RuntimeError):
    """A registry operation failed; the message says which and why."""


@dataclass(frozen=True)
class Tag:
    """A parsed registry tag: a registration (``version`` set) or a stage assignment (``stage`` set)."""

    artifact: str
    version: str | None = None
    stage: str | None = None
    counter: int | None = None


def parse_tag(name: str) -> Tag | None:
    """``model@v1.2.3`` or ``model#prod#4`` → Tag; anything else → None."""
    if match := _VERSION_TAG.match(name):
        return Tag(match["artifact"], version=match["version"])
    if match := _STAGE_TAG.match(name):
        return Tag(match["artifact"], stage=match["stage"], counter=int(match["counter"]))
    return None


def version_tag(artifact: str, version: str) -> str:
    if not _VERSION_TAG.match(f"{artifact}@{version}"):
        raise RegistryError(f"{artifact}@{version} is not a valid version tag (want e.g. {artifact}@v1.2.0)")
    return f"{artifact}@{version}"


def parse_version(version: str) -> tuple[int, int, int]:
    """``v1.2.3`` → (1, 2, 3)."""
    match = re.fullmatch(_SEMVER, version)
    if not match:
        raise RegistryError(f"{version!r} is not a version like v1.2.3")
    return int(match[1]), int(match[2]), int(match[3])


def next_version(latest: str | None) -> str:
    """The version a new model gets: v0.1.0 first, then a minor bump of the latest."""
    if latest is None:
        return "v0.1.0"
    major, minor, _ = parse_version(latest)
    return f"v{major}.{minor + 1}.0"


def registration_message(artifact: str, version: str, model_md5: str, files: Mapping[str, str] | None = None) -> str:
    """The tag message: the model file's md5, then one ``file: <name> <md5>`` line per file of the model folder."""
    lines = [f"model_md5: {model_md5}", *(f"file: {name} {md5}" for name, md5 in sorted((files or {}).items()))]
    return f"Register {artifact} {version}\n\n" + "\n".join(lines) + "\n"


def message_model_md5(message: str | None) -> str | None:
    """The model md5 recorded in a registration tag's message, if any."""
    match = _MD5_LINE.search(message or "")
    return match[1] if match else None


def message_files(message: str | None) -> dict[str, str]:
    """The md5 of each file of the model folder recorded in a registration tag's message ({} for older tags)."""
    return {name: md5 for name, md5 in _FILE_LINE.findall(message or "")}


@dataclass(frozen=True)
class Version:
    """A registered version: where it was registered and what model file it holds."""

    version: str
    commit: str
    model_md5: str | None
    stages: tuple[str, ...] = ()
    files: Mapping[str, str] = field(default_factory=dict)
    """File name -> md5 of the registered model folder ({} for versions registered before files were recorded)."""


@dataclass(frozen=True)
class Decision:
    """What the versioning rule says about the model in the workspace."""

    register: bool
    version: str
    reason: str


def changed_files(files: Mapping[str, str], registered: Mapping[str, str]) -> list[str]:
    """Names of the files that differ between two model folders' digests (added, removed or changed)."""
    return sorted(name for name in set(files) | set(registered) if files.get(name) != registered.get(name))


def decide(model_md5: str, latest: Version | None, files: Mapping[str, str] | None = None) -> Decision:
    """The versioning rule: register a minor bump only when the served model changed (any file of the model
    folder, when both sides recorded them; else the model file)."""
    if latest is None:
        return Decision(True, next_version(None), "no version registered yet")
    if files and latest.files:
        changed = changed_files(files, latest.files)
        if not changed:
            return Decision(False, latest.version, f"model unchanged since {latest.version} (md5 {model_md5})")
        return Decision(True, next_version(latest.version), f"changed since {latest.version}: {', '.join(changed)}")
    if latest.model_md5 == model_md5:
        return Decision(False, latest.version, f"model unchanged since {latest.version} (md5 {model_md5})")
    return Decision(
        True, next_version(latest.version), f"model md5 {model_md5} differs from {latest.version}'s {latest.model_md5}"
    )


def versions_from_gto(shown: list[dict[str, Any]]) -> list[Version]:
    """Versions from ``gto.api.show(repo, artifact)`` (what ``gto show <artifact> --json`` prints), newest
    (highest semver) first."""
    found = []
    for item in shown:
        if not item.get("registrations") or item.get("deregistrations"):
            continue
        registration = item["registrations"][-1]
        stages = tuple(stage["stage"] for stage in item.get("stages") or [] if stage.get("is_active", True))
        message = registration["message"]
        found.append(
            Version(item["version"], item["commit_hexsha"], message_model_md5(message), stages, message_files(message))
        )
    return sorted(found, key=lambda v: parse_version(v.version), reverse=True)


class Registry:
    """The GTO registry of one artifact in a git repository (local operations; ``push`` publishes tags)."""

    def __init__(self, repo: Path | str = ".", artifact: str = DEFAULT_ARTIFACT, remote: str = "origin") -> None:
        self.repo = Path(repo)
        self.artifact = artifact
        self.remote = remote

    def _run(self, *command: str, env: dict[str, str] | None = None) -> str:
        try:
            return run_command(command, self.repo, env=env).stdout
        except CommandError as error:
            raise RegistryError(str(error)) from None

    def _remote_auth(self) -> dict[str, str]:
        """Environment that authenticates git with $GITHUB_TOKEN on an HTTPS remote (nothing on the command line)."""
        url = self._run("git", "remote", "get-url", self.remote).strip()
        return git_auth_env(url, os.environ.get("GITHUB_TOKEN"), os.environ)

    def _gto(self, *args: str) -> str:
        return self._run("gto", *args)

    def _shown(self, artifact: str | None = None) -> Any:
        """``gto.api.show`` of the artifact (its versions) or, without one, of the registry (each artifact's latest
        version and stages); None when the artifact has no tags."""
        import gto.api
        from gto.exceptions import ArtifactNotFound, GTOException
        from scmrepo.exceptions import SCMError

        try:
            return gto.api.show(str(self.repo), artifact) if artifact else gto.api.show(str(self.repo))
        except ArtifactNotFound:
            return None
        except (GTOException, SCMError) as error:
            raise RegistryError(f"cannot read the registry in {self.repo}: {error}") from None

    def versions(self) -> list[Version]:
        """Every registered version, highest first."""
        return versions_from_gto(self._shown(self.artifact) or [])

    def latest(self) -> Version | None:
        found = self.versions()
        return found[0] if found else None

    def get(self, version: str) -> Version:
        for found in self.versions():
            if found.version == version:
                return found
        raise RegistryError(f"{self.artifact} {version} is not registered (see `gto show {self.artifact}`)")

    def stage_version(self, stage: str) -> str | None:
        """The version a stage is assigned to now (GTO: the latest assignment wins), or None."""
        shown = (self._shown() or {}).get(self.artifact) or {}
        return (shown.get("stage") or {}).get(stage)

    def register(self, model_md5: str, ref: str = "HEAD", files: Mapping[str, str] | None = None) -> Decision:
        """Apply the versioning rule to a model (its file's md5 and its folder's file digests) and register a new
        version at ``ref`` if it says so."""
        decision = decide(model_md5, self.latest(), files)
        if decision.register:
            message = registration_message(self.artifact, decision.version, model_md5, files)
            self._gto("register", self.artifact, ref, "--version", decision.version, "--message", message)
        return decision

    def assign(self, version: str, stage: str) -> str:
        """Assign ``stage`` to ``version`` (a new ``artifact#stage#N`` tag); returns the tag name."""
        if self.stage_version(stage) == version:
            return ""
        self._after_last_assignment(stage)
        self._gto(
            "assign", self.artifact, "--version", version, "--stage", stage, "--simple", "false", "--force",
            "--message", f"Assign {stage} to {self.artifact} {version}",
        )  # fmt: skip
        if self.stage_version(stage) != version:
            raise RegistryError(f"assigned {stage} to {version} but GTO still reports {self.stage_version(stage)}")
        tags = self._run("git", "tag", "--list", f"{self.artifact}#{stage}#*").split()
        return max(tags, key=lambda name: (parse_tag(name) or Tag("")).counter or 0)

    def _after_last_assignment(self, stage: str) -> None:
        """Wait, if need be, until a second after the stage's newest assignment tag: GTO orders assignments by their
        tag's time, in whole seconds, so two in the same second would leave the stage's version undecided."""
        pattern = f"refs/tags/{self.artifact}#{stage}#*"
        times = self._run("git", "for-each-ref", "--format=%(creatordate:unix)", pattern).split()
        if times:
            wait = max(map(int, times)) + 1 - time.time()
            if wait > 0:
                time.sleep(wait)

    def commit_of(self, version: str) -> str:
        return self._run("git", "rev-list", "-n", "1", version_tag(self.artifact, version)).strip()

    def fetch(self) -> bool:
        """Bring the remote's registry tags in (other jobs and runs add them); False when there is no remote."""
        if self.remote not in self._run("git", "remote").split():
            return False
        self._run("git", "fetch", "--quiet", "--tags", "--force", self.remote, env=self._remote_auth())
        return True

    def push(self, tags: list[str]) -> None:
        """Publish tags to the remote, all or none (``--atomic``); with GITHUB_TOKEN set, HTTPS pushes authenticate
        with it. When the push fails the tags are deleted here too, so this repository says what the remote says
        (a retry makes them again), and RegistryError says so."""
        tags = [tag for tag in tags if tag]
        if not tags:
            return
        try:
            self._run("git", "push", "--quiet", "--atomic", self.remote, *[f"refs/tags/{tag}" for tag in tags],
                      env=self._remote_auth())  # fmt: skip
        except RegistryError as error:
            self.delete_tags(tags)
            raise RegistryError(
                f"pushing {', '.join(tags)} to {self.remote} failed, so {'they were' if len(tags) > 1 else 'it was'} "
                f"deleted here too: {error}"
            ) from None

    def delete_tags(self, tags: list[str]) -> None:
        """Delete local tags (those that exist)."""
        present = set(self._run("git", "tag", "--list", *tags).split())
        if present:
            self._run("git", "tag", "--delete", *sorted(present))
