"""Promotion verbs: `slipway register`, `registered`, `assign`, `deploy`, `promote`, `undeploy`, `image`,
`lineage`, `check-remote`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from slipway.cli.app import ParamsOption, _fail, _github_output, app

if TYPE_CHECKING:
    from slipway.config import DeployConfig
    from slipway.release.materialise import Materialiser
    from slipway.release.registry import Decision, Registry
    from slipway.release.targets.base import DeployTarget

    Promotion = tuple[DeployConfig, Registry, DeployTarget, Materialiser]


StageOption = Annotated[str, typer.Option("--stage", help="stage name from params.yaml deploy.stages")]


PushTagsOption = Annotated[bool, typer.Option("--push-tags", help="push the new registry tags to the git remote")]


TargetOption = Annotated[str | None, typer.Option("--target", help="local | container | kubernetes (default: params)")]


def _promotion(params: Path, target: str | None = None) -> Promotion:
    from slipway.config import load_config
    from slipway.release.materialise import Materialiser
    from slipway.release.registry import Registry
    from slipway.release.targets import make_target

    config = load_config(params).deploy
    repo = Path.cwd()
    registry = Registry(repo, config.artifact)
    registry.fetch()  # the registry is the remote's tags: earlier jobs and runs may have added some
    return config, registry, make_target(config, repo, target), Materialiser(repo, registry, repo / config.directory)


@app.command("check-remote")
def check_remote(
    remote: Annotated[str | None, typer.Argument(help="DVC remote name (default: the default remote)")] = None,
) -> None:
    """Exit 1, naming the DVC remote and its URL, when it cannot be reached (DVC reports that as missing files)."""
    from slipway.adapters.dvc import remote_problem

    problem = remote_problem(Path.cwd(), remote)
    if problem:
        raise _fail(problem)
    typer.echo(f"DVC remote {remote or '(default)'} answers")


def _register_workspace_model(config: DeployConfig, registry: Registry, push_tags: bool) -> Decision:
    """Register the workspace's model file if it changed (pushing the new tag when asked); say what happened."""
    from slipway.artifact.digest import file_md5
    from slipway.artifact.folder import folder_digests
    from slipway.release.materialise import artifact_path

    model = Path(artifact_path(Path.cwd(), config.artifact))
    if not model.is_file():
        raise _fail(f"{model} is missing: run `dvc repro` (or `make verify`) first")
    decision = registry.register(file_md5(model), files=folder_digests(model.parent))
    if decision.register and push_tags:
        registry.push([f"{config.artifact}@{decision.version}"])
    typer.echo(f"{'registered' if decision.register else 'not registered'}: {decision.version} ({decision.reason})")
    return decision


@app.command()
def register(params: ParamsOption = Path("params.yaml"), push_tags: PushTagsOption = False) -> None:
    """Register the workspace's model as a new minor version if its file changed since the latest version."""
    config, registry, _, _ = _promotion(params)
    decision = _register_workspace_model(config, registry, push_tags)
    _github_output(version=decision.version, registered=str(decision.register).lower())


@app.command()
def registered(
    version: Annotated[str, typer.Argument(help="version to check, e.g. v0.3.0")],
    params: ParamsOption = Path("params.yaml"),
) -> None:
    """Exit 1 unless a version is registered; in GitHub Actions, output it for the deploy jobs."""
    from slipway.release.registry import RegistryError

    _, registry, _, _ = _promotion(params)
    try:
        found = registry.get(version)
    except RegistryError as error:
        raise _fail(str(error)) from None
    typer.echo(f"{registry.artifact} {found.version} is registered at {found.commit}")
    _github_output(version=found.version, registered="true")


@app.command()
def assign(
    version: Annotated[str, typer.Argument(help="registered version, e.g. v0.3.0")],
    stage: StageOption,
    params: ParamsOption = Path("params.yaml"),
    push_tags: PushTagsOption = False,
) -> None:
    """Assign a stage to a version (GTO tag) without deploying."""
    _, registry, _, _ = _promotion(params)
    tag = registry.assign(version, stage)
    if push_tags:
        registry.push([tag])
    typer.echo(f"{stage} -> {version} {tag or '(already)'}")


@app.command()
def deploy(
    stage: StageOption,
    version: Annotated[
        str | None, typer.Option(help="version to deploy (default: the one tagged for the stage)")
    ] = None,
    params: ParamsOption = Path("params.yaml"),
    target: TargetOption = None,
    push_tags: PushTagsOption = False,
) -> None:
    """Deploy a version to one stage: materialise, deploy, smoke-test, assign the stage; roll back on failure."""
    promotion = _promotion(params, target)
    config, registry = promotion[0], promotion[1]
    if stage not in config.stages:
        raise _fail(f"unknown stage {stage!r}; params.yaml deploy.stages has {', '.join(config.stages)}", 2)
    chosen = version or registry.stage_version(stage)
    if chosen is None:
        raise _fail(f"no version is tagged {stage}; pass --version", 2)
    from slipway.release.promote import PromotionError, deploy_stage

    _, registry, deploy_target, materialise = promotion
    try:
        result = deploy_stage(
            stage, chosen, registry=registry, target=deploy_target, materialise=materialise, log=typer.echo,
            push_tags=push_tags,
        )  # fmt: skip
    except PromotionError as error:
        raise _fail(f"DEPLOY FAILED: {error}") from None
    typer.echo(f"{stage} serves {chosen} ({result.detail})")


@app.command()
def promote(
    version: Annotated[
        str | None, typer.Option(help="registered version (default: register the workspace model)")
    ] = None,
    params: ParamsOption = Path("params.yaml"),
    target: TargetOption = None,
    push_tags: PushTagsOption = False,
) -> None:
    """Register (when the model changed), then deploy → smoke → assign → push through every stage in order."""
    from slipway.release.promote import PromotionError
    from slipway.release.promote import promote as promote_stages

    config, registry, deploy_target, materialise = _promotion(params, target)
    if version is None:
        decision = _register_workspace_model(config, registry, push_tags)
        if not decision.register:
            typer.echo("nothing new to promote")
            return
        version = decision.version
    try:
        promote_stages(
            version, list(config.stages), registry=registry, target=deploy_target, materialise=materialise,
            log=typer.echo, push_tags=push_tags,
        )  # fmt: skip
    except PromotionError as error:
        raise _fail(f"PROMOTION FAILED: {error}") from None
    typer.echo(f"{version} promoted through {', '.join(config.stages)}")


@app.command()
def undeploy(
    stage: Annotated[list[str] | None, typer.Option("--stage", help="stage(s) to stop (default: all)")] = None,
    params: ParamsOption = Path("params.yaml"),
    target: TargetOption = None,
) -> None:
    """Stop the servers/containers of stages (the registry tags are unchanged)."""
    config, _, deploy_target, _ = _promotion(params, target)
    for name in stage or list(config.stages):
        deploy_target.stop(name)
        typer.echo(f"stopped {name}")


@app.command()
def image(
    version: Annotated[str, typer.Option(help="registered version: the image tag")],
    params: ParamsOption = Path("params.yaml"),
    login: Annotated[bool, typer.Option(help="docker login with $REGISTRY_TOKEN first")] = False,
) -> None:
    """Build the serving image of a version from infra/ and push it (tag = model version)."""
    import os

    from slipway.adapters.commands import run_command
    from slipway.release.targets.container import ContainerTarget

    config, _, _, materialise = _promotion(params)
    if login:
        registry_host = config.image.split("/", 1)[0]
        user = os.environ.get("REGISTRY_USER") or os.environ.get("GITHUB_ACTOR") or "token"
        token = os.environ.get("REGISTRY_TOKEN", "")
        run_command(
            ["docker", "login", registry_host, "--username", user, "--password-stdin"], input=token, secrets=[token]
        )  # the password on stdin, never on the command line
    built = ContainerTarget(config, Path.cwd()).build(version, materialise(version))
    typer.echo(f"built {built}" + (" and pushed it" if config.push else ""))


@app.command()
def lineage(
    version: Annotated[str, typer.Argument(help="registered version, e.g. v0.2.0")],
    params: ParamsOption = Path("params.yaml"),
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """The commit, data hash, params and metrics behind a registered version."""
    from dataclasses import asdict

    from slipway.config import load_config
    from slipway.release.lineage import lineage as find_lineage
    from slipway.release.registry import Registry, RegistryError

    config = load_config(params).deploy
    try:
        found = find_lineage(Registry(Path.cwd(), config.artifact), version)
    except RegistryError as error:
        raise _fail(str(error)) from None
    typer.echo(json.dumps(asdict(found), indent=2) if as_json else found.render())
