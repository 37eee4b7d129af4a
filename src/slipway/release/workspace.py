"""The release verbs' library: the registry, target and materialiser of this workspace, and the workspace's model
registered, promoted, served or built into an image."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from slipway.config import DeployConfig, load_config
from slipway.release.materialise import Materialiser, artifact_path
from slipway.release.promote import StageResult, deploy_stage, promote
from slipway.release.registry import Decision, Registry
from slipway.release.targets import make_target
from slipway.release.targets.base import DeployError, DeployTarget
from slipway.release.targets.container import ContainerTarget


@dataclass(frozen=True)
class Release:
    """What the release verbs work with in one repository."""

    repo: Path
    config: DeployConfig
    registry: Registry
    target: DeployTarget
    materialise: Materialiser


def open_release(params: Path | str, repo: Path | None = None, target: str | None = None) -> Release:
    """The deploy settings of ``params``, the registry with the remote's tags fetched (earlier jobs and runs may
    have added some), the deploy target (``target`` or the configured one) and the materialiser."""
    repo = repo or Path.cwd()
    config = load_config(params).deploy
    registry = Registry(repo, config.artifact)
    registry.fetch()
    materialise = Materialiser(repo, registry, repo / config.directory)
    return Release(repo, config, registry, make_target(config, repo, target), materialise)


def register_workspace_model(release: Release, push_tags: bool = False) -> Decision:
    """Register the workspace's model as a new minor version if a file of its folder changed since the latest
    version (pushing the new tag when asked). DeployError when there is no model file."""
    from slipway.artifact.digest import file_md5
    from slipway.artifact.folder import folder_digests

    model = release.repo / artifact_path(release.repo, release.config.artifact)
    if not model.is_file():
        raise DeployError(f"{model} is missing: run `dvc repro` (or `make verify`) first")
    decision = release.registry.register(file_md5(model), files=folder_digests(model.parent))
    if decision.register and push_tags:
        release.registry.push([f"{release.config.artifact}@{decision.version}"])
    return decision


def deploy_version(
    release: Release, stage: str, version: str, push_tags: bool = False, log: Callable[[str], None] = print
) -> StageResult:
    """Deploy → smoke → assign → (push) one version to one stage; roll back on failure (PromotionError)."""
    return deploy_stage(
        stage, version, registry=release.registry, target=release.target, materialise=release.materialise, log=log,
        push_tags=push_tags,
    )  # fmt: skip


def promote_workspace(
    release: Release, version: str | None = None, push_tags: bool = False, log: Callable[[str], None] = print
) -> str | None:
    """Promote ``version`` through every stage in order; without one, register the workspace's model first (None
    when it is unchanged: nothing new to promote). Returns the promoted version."""
    if version is None:
        decision = register_workspace_model(release, push_tags)
        log(f"{'registered' if decision.register else 'not registered'}: {decision.version} ({decision.reason})")
        if not decision.register:
            return None
        version = decision.version
    promote(
        version, list(release.config.stages), registry=release.registry, target=release.target,
        materialise=release.materialise, log=log, push_tags=push_tags,
    )  # fmt: skip
    return version


def stage_model(release: Release, stage: str) -> tuple[Path, str | None]:
    """The model folder to serve for a stage and its version: the version tagged for the stage, materialised;
    the workspace's model folder (version None) while no version is tagged."""
    version = release.registry.stage_version(stage)
    if version is None:
        return (release.repo / artifact_path(release.repo, release.config.artifact)).parent, None
    return release.materialise(version), version


def build_image(release: Release, version: str, login: bool = False, env: Mapping[str, str] | None = None) -> str:
    """Build the serving image of a registered version (and push it when configured), logging in to the image
    registry first when asked; returns the image's name."""
    image = ContainerTarget(release.config, release.repo)
    if login:
        image.login(env)
    return image.build(version, release.materialise(version))
