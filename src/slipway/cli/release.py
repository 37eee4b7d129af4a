"""Promotion verbs: `slipway register`, `registered`, `assign`, `deploy`, `promote`, `undeploy`, `image`,
`lineage`, `check-remote`. An unknown stage or an untagged one is a usage error (exit 2); any other failure
exits 1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from slipway.cli.root import Failure, ParamsOption, app

StageOption = Annotated[str, typer.Option("--stage", help="stage name from params.yaml deploy.stages")]


PushTagsOption = Annotated[bool, typer.Option("--push-tags", help="push the new registry tags to the git remote")]


TargetOption = Annotated[str | None, typer.Option("--target", help="local | container | kubernetes (default: params)")]


@app.command("check-remote")
def check_remote(
    remote: Annotated[str | None, typer.Argument(help="DVC remote name (default: the default remote)")] = None,
) -> None:
    """Exit 1, naming the DVC remote and its URL, when it cannot be reached (DVC reports that as missing files)."""
    from slipway.adapters.dvc import remote_problem

    problem = remote_problem(Path.cwd(), remote)
    if problem:
        raise Failure(problem)
    typer.echo(f"DVC remote {remote or '(default)'} answers")


@app.command()
def register(params: ParamsOption = Path("params.yaml"), push_tags: PushTagsOption = False) -> None:
    """Register the workspace's model as a new minor version if its file changed since the latest version."""
    from slipway.adapters.github import write_outputs
    from slipway.release.workspace import open_release, register_workspace_model

    decision = register_workspace_model(open_release(params), push_tags)
    typer.echo(f"{'registered' if decision.register else 'not registered'}: {decision.version} ({decision.reason})")
    write_outputs({"version": decision.version, "registered": str(decision.register).lower()})


@app.command()
def registered(
    version: Annotated[str, typer.Argument(help="version to check, e.g. v0.3.0")],
    params: ParamsOption = Path("params.yaml"),
) -> None:
    """Exit 1 unless a version is registered; in GitHub Actions, output it for the deploy jobs."""
    from slipway.adapters.github import write_outputs
    from slipway.release.workspace import open_release

    registry = open_release(params).registry
    found = registry.get(version)
    typer.echo(f"{registry.artifact} {found.version} is registered at {found.commit}")
    write_outputs({"version": found.version, "registered": "true"})


@app.command()
def assign(
    version: Annotated[str, typer.Argument(help="registered version, e.g. v0.3.0")],
    stage: StageOption,
    params: ParamsOption = Path("params.yaml"),
    push_tags: PushTagsOption = False,
) -> None:
    """Assign a stage to a version (GTO tag) without deploying."""
    from slipway.release.workspace import open_release

    registry = open_release(params).registry
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
    from slipway.release.promote import PromotionError
    from slipway.release.workspace import deploy_version, open_release

    release = open_release(params, target=target)
    if stage not in release.config.stages:
        raise Failure(f"unknown stage {stage!r}; params.yaml deploy.stages has {', '.join(release.config.stages)}", 2)
    chosen = version or release.registry.stage_version(stage)
    if chosen is None:
        raise Failure(f"no version is tagged {stage}; pass --version", 2)
    try:
        result = deploy_version(release, stage, chosen, push_tags, log=typer.echo)
    except PromotionError as error:
        raise Failure(f"DEPLOY FAILED: {error}") from None
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
    from slipway.release.workspace import open_release, promote_workspace

    release = open_release(params, target=target)
    try:
        promoted = promote_workspace(release, version, push_tags, log=typer.echo)
    except PromotionError as error:
        raise Failure(f"PROMOTION FAILED: {error}") from None
    if promoted is None:
        typer.echo("nothing new to promote")
    else:
        typer.echo(f"{promoted} promoted through {', '.join(release.config.stages)}")


@app.command()
def undeploy(
    stage: Annotated[list[str] | None, typer.Option("--stage", help="stage(s) to stop (default: all)")] = None,
    params: ParamsOption = Path("params.yaml"),
    target: TargetOption = None,
) -> None:
    """Stop the servers/containers of stages (the registry tags are unchanged)."""
    from slipway.release.workspace import open_release

    release = open_release(params, target=target)
    for name in stage or list(release.config.stages):
        release.target.stop(name)
        typer.echo(f"stopped {name}")


@app.command()
def image(
    version: Annotated[str, typer.Option(help="registered version: the image tag")],
    params: ParamsOption = Path("params.yaml"),
    login: Annotated[bool, typer.Option(help="docker login with $REGISTRY_TOKEN first")] = False,
) -> None:
    """Build the serving image of a version from infra/ and push it (tag = model version)."""
    from slipway.release.workspace import build_image, open_release

    release = open_release(params)
    built = build_image(release, version, login)
    typer.echo(f"built {built}" + (" and pushed it" if release.config.push else ""))


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
    from slipway.release.registry import Registry

    found = find_lineage(Registry(Path.cwd(), load_config(params).deploy.artifact), version)
    typer.echo(json.dumps(asdict(found), indent=2) if as_json else found.render())
