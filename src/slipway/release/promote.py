"""Promotion: for each stage in order, deploy, smoke-test, assign the stage tag, push it. When any of these
fails, the stage is redeployed with the version its tag names (what served before), no new stage tag is left
locally or on the remote, and PromotionError says what happened."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from slipway.adapters.http import http_json
from slipway.release.registry import RegistryError
from slipway.release.targets.base import DeployError, DeployTarget


class PromotionError(RuntimeError):
    """A promotion stopped; the message says where, and what serves now."""


def served_version(url: str) -> str | None:
    """The model version a server reports on ``/version`` (None if it does not answer)."""
    status, body = http_json(f"{url}/version")
    if status != 200 or not isinstance(body, dict):
        return None
    for key in ("model_version", "version"):
        if isinstance(body.get(key), str):
            return body[key]
    return None


def smoke(url: str, version: str) -> None:
    """The serving smoke test (``slipway smoke``) against a deployment, which must report ``version``."""
    from slipway.serving.smoke import smoke_test

    result = smoke_test(url, expect_version=version, wait=10.0)
    if not result.ok:
        raise DeployError(f"smoke test of {url} failed:\n{result.render()}")


@dataclass(frozen=True)
class StageResult:
    stage: str
    version: str
    ok: bool
    detail: str
    tag: str = ""


class StageRegistry(Protocol):
    def stage_version(self, stage: str) -> str | None: ...

    def assign(self, version: str, stage: str) -> str: ...

    def push(self, tags: list[str]) -> None:
        """Publish tags; on failure they are deleted locally too, and RegistryError is raised."""
        ...


def deploy_stage(
    stage: str,
    version: str,
    *,
    registry: StageRegistry,
    target: DeployTarget,
    materialise: Callable[[str], Path],
    check: Callable[[str, str], None] = smoke,
    log: Callable[[str], None] = print,
    push_tags: bool = False,
) -> StageResult:
    """Deploy a version to a stage, smoke-test it, assign the stage tag and (``push_tags``) publish it.

    All four steps are one unit: when any fails, no new tag is left here or on the remote, the stage is
    redeployed with the version its tag names (what served before), and PromotionError says so. So the remote's
    tags, this repository's tags and what serves agree after a failure (the remote is what the next job reads)."""
    previous = registry.stage_version(stage)
    log(f"[{stage}] deploying {version} with the {target.name} target (tag says {previous or 'nothing'} serves)")
    step = f"deploying {version}"
    try:
        deployment = target.deploy(stage, version, materialise(version))
        if deployment.url is None:
            log(f"[{stage}] {deployment.detail}")
            return StageResult(stage, version, True, deployment.detail)
        check(deployment.url, version)
        log(f"[{stage}] {version} passed its smoke test at {deployment.url}")
        step = f"tagging {version} as {stage}"
        tag = registry.assign(version, stage)
        if push_tags and tag:
            step = f"pushing the tag {tag}"
            registry.push([tag])
    except (DeployError, RegistryError) as error:
        log(f"[{stage}] {version} FAILED: {error}")
        if previous is None or previous == version:
            target.stop(stage)
            raise PromotionError(
                f"{stage}: {step} failed and no earlier version is tagged {stage}; the stage is stopped"
            ) from error
        try:
            restored = target.rollback(stage, previous, materialise(previous))
            if restored.url is not None:
                check(restored.url, previous)
                log(f"[{stage}] rolled back to {previous}, which passed its smoke test at {restored.url}")
        except (DeployError, RegistryError) as rollback_error:
            raise PromotionError(
                f"{stage}: {step} failed, and rolling back to {previous} failed too: {rollback_error}"
            ) from error
        raise PromotionError(
            f"{stage}: {step} failed; rolled back to {previous}, which serves again and is still "
            f"the version tagged {stage}"
        ) from error
    return StageResult(stage, version, True, deployment.detail, tag)


def promote(
    version: str,
    stages: Sequence[str],
    *,
    registry: StageRegistry,
    target: DeployTarget,
    materialise: Callable[[str], Path],
    check: Callable[[str, str], None] = smoke,
    log: Callable[[str], None] = print,
    push_tags: bool = False,
) -> list[StageResult]:
    """deploy → smoke → assign → push, stage after stage; stops at the first failure (PromotionError)."""
    return [
        deploy_stage(stage, version, registry=registry, target=target, materialise=materialise, check=check,
                     log=log, push_tags=push_tags)
        for stage in stages
    ]  # fmt: skip
