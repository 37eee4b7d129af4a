"""Where models run: local processes, containers, Kubernetes; ``make_target`` picks one (``deploy.target``)."""

from __future__ import annotations

from pathlib import Path

from slipway.config import DeployConfig
from slipway.release.targets.base import DeployError, DeployTarget
from slipway.release.targets.container import ContainerTarget
from slipway.release.targets.kubernetes import KubernetesTarget, kubeconfig_from_secret
from slipway.release.targets.local import LocalTarget


def make_target(config: DeployConfig, repo: Path, name: str | None = None) -> DeployTarget:
    chosen = name or config.target
    if chosen == "local":
        return LocalTarget(config, repo / config.directory)
    if chosen == "container":
        return ContainerTarget(config, repo)
    if chosen == "kubernetes":
        kubeconfig_from_secret()
        return KubernetesTarget(config, repo)
    raise DeployError(f"unknown deploy target {chosen!r} (local, container, kubernetes)")
