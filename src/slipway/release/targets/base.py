"""Where models run, behind one small interface (``deploy.target`` in params.yaml):

local       the version's model folder under ``deployments/releases/<version>`` and a ``slipway serve`` process
            per stage on a configured port;
container   ``docker build`` of ``infra/Dockerfile`` tagged with the model version, push, one container per stage;
kubernetes  the stage's kustomize overlay with the image set to the version, ``kubectl apply``, rollout status."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from slipway.adapters.commands import CommandError, run_command


class DeployError(RuntimeError):
    """A deploy or its smoke test failed."""


@dataclass(frozen=True)
class Deployment:
    stage: str
    version: str
    url: str | None
    """Where the stage answers; None when the target skipped the deploy."""
    detail: str = ""


class DeployTarget(Protocol):
    """Where models run. ``rollback`` redeploys a version that served before (its model folder may be gone)."""

    name: str

    def deploy(self, stage: str, version: str, model_dir: Path) -> Deployment: ...

    def current(self, stage: str) -> str | None: ...

    def rollback(self, stage: str, version: str, model_dir: Path) -> Deployment: ...

    def stop(self, stage: str) -> None: ...


def run_tool(
    command: Sequence[str], cwd: Path, check: bool = True, input: str | None = None, secrets: Sequence[str] = ()
) -> str:
    """A command's output through the project's command runner; a failure is a DeployError (one redacted line)."""
    try:
        return run_command(command, cwd, check=check, input=input, secrets=secrets).stdout
    except CommandError as error:
        raise DeployError(str(error)) from None
