"""The `slipway` command: the verbs that people, the Makefile and the workflows call."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Slipway: data checks, reports, promotion, serving and monitoring.", no_args_is_help=True)

ParamsOption = Annotated[Path, typer.Option("--params", help="params.yaml to read")]


@app.command()
def generate(
    out: Annotated[Path, typer.Argument(help="where to write the table (.csv or .parquet)")],
    rows: Annotated[int, typer.Option(help="number of rows")] = 10_000,
    seed: Annotated[int, typer.Option(help="random seed")] = 42,
    id_offset: Annotated[int, typer.Option(help="first customer number (keeps ids unique across periods)")] = 0,
    shift: Annotated[str, typer.Option(help='JSON: numeric shifts in std units, e.g. {"monthly_charges": 0.5}')] = "{}",
    concept_shift: Annotated[float, typer.Option(help="0 = usual signal, 1 = churn unrelated to features")] = 0.0,
) -> None:
    """Generate synthetic churn data (the demo data, bigger tables for benchmarks, drifted periods)."""
    from slipway.data import write_table
    from slipway.generator import ChurnSettings, generate_churn

    settings = ChurnSettings(
        rows=rows, seed=seed, id_offset=id_offset, numeric_shift=json.loads(shift), concept_shift=concept_shift
    )
    write_table(generate_churn(settings), out)
    typer.echo(f"wrote {rows:,} rows to {out}")


@app.command()
def validate(
    table: Annotated[Path, typer.Argument(help="CSV or Parquet file to check")],
    params: ParamsOption = Path("params.yaml"),
    report: Annotated[Path | None, typer.Option(help="also write the markdown report here")] = None,
) -> None:
    """Check a table against the project's schema; exit 1 with a report naming columns and rows on failure."""
    from slipway.config import load_config
    from slipway.schemas import load_schema
    from slipway.validation import render_markdown, render_text, validate_file

    config = load_config(params)
    result = validate_file(table, load_schema(config.data.schema_path))
    if report:
        report.write_text(render_markdown(result))
    typer.echo(render_text(result))
    raise typer.Exit(0 if result.ok else 1)


# ---------------------------------------------------------------- promotion: registry, deploy, lineage

StageOption = Annotated[str, typer.Option("--stage", help="stage name from params.yaml deploy.stages")]
PushTagsOption = Annotated[bool, typer.Option("--push-tags", help="push the new registry tags to the git remote")]
TargetOption = Annotated[str | None, typer.Option("--target", help="local | container | kubernetes (default: params)")]


def _github_output(**values: str) -> None:
    """Step outputs for GitHub Actions (no-op elsewhere)."""
    import os

    path = os.environ.get("GITHUB_OUTPUT")
    if path:
        with open(path, "a") as handle:
            handle.writelines(f"{key}={value}\n" for key, value in values.items())


def _promotion(params: Path, target: str | None = None):  # type: ignore[no-untyped-def]
    from slipway.config import load_config
    from slipway.deploy import Materialiser, make_target
    from slipway.registry import Registry

    config = load_config(params).deploy
    repo = Path.cwd()
    registry = Registry(repo, config.artifact)
    registry.fetch()  # the registry is the remote's tags: earlier jobs and runs may have added some
    return config, registry, make_target(config, repo, target), Materialiser(repo, registry, repo / config.directory)


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code)


@app.command("verify-lock")
def verify_lock() -> None:
    """Check that dvc.lock matches this commit's code, data and params (run after `dvc pull`)."""
    import subprocess

    import yaml

    from slipway.lockcheck import lock_problems, pipeline_outputs

    status = subprocess.run(["dvc", "status", "--json"], capture_output=True, text=True, check=True).stdout
    problems = lock_problems(json.loads(status or "{}"), pipeline_outputs(yaml.safe_load(Path("dvc.yaml").read_text())))
    if problems:
        raise _fail(
            "dvc.lock does not match this commit (run `dvc repro` and commit dvc.lock):\n  " + "\n  ".join(problems)
        )
    typer.echo("dvc.lock matches the code, data and params")


@app.command()
def register(params: ParamsOption = Path("params.yaml"), push_tags: PushTagsOption = False) -> None:
    """Register the workspace's model as a new minor version if its file changed since the latest version."""
    from slipway.deploy import artifact_path
    from slipway.provenance import file_md5

    config, registry, _, _ = _promotion(params)
    model = Path(artifact_path(Path.cwd(), config.artifact))
    if not model.is_file():
        raise _fail(f"{model} is missing: run `dvc repro` (or `make verify`) first")
    decision = registry.register(file_md5(model))
    if decision.register and push_tags:
        registry.push([f"{config.artifact}@{decision.version}"])
    typer.echo(f"{'registered' if decision.register else 'not registered'}: {decision.version} ({decision.reason})")
    _github_output(version=decision.version, registered=str(decision.register).lower())


@app.command()
def registered(
    version: Annotated[str, typer.Argument(help="version to check, e.g. v0.3.0")],
    params: ParamsOption = Path("params.yaml"),
) -> None:
    """Exit 1 unless a version is registered; in GitHub Actions, output it for the deploy jobs."""
    from slipway.registry import RegistryError

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
    from slipway.deploy import PromotionError, deploy_stage

    config, registry, deploy_target, materialise = _promotion(params, target)
    if stage not in config.stages:
        raise _fail(f"unknown stage {stage!r}; params.yaml deploy.stages has {', '.join(config.stages)}", 2)
    chosen = version or registry.stage_version(stage)
    if chosen is None:
        raise _fail(f"no version is tagged {stage}; pass --version", 2)
    try:
        result = deploy_stage(
            stage, chosen, registry=registry, target=deploy_target, materialise=materialise, log=typer.echo
        )
    except PromotionError as error:
        raise _fail(f"DEPLOY FAILED: {error}") from None
    if push_tags:
        registry.push([result.tag])
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
    """Register (when the model changed), then deploy → smoke → assign through every stage in order."""
    from slipway.deploy import PromotionError, artifact_path, deploy_stage
    from slipway.provenance import file_md5

    config, registry, deploy_target, materialise = _promotion(params, target)
    if version is None:
        decision = registry.register(file_md5(artifact_path(Path.cwd(), config.artifact)))
        typer.echo(f"{'registered' if decision.register else 'not registered'}: {decision.version} ({decision.reason})")
        if not decision.register:
            typer.echo("nothing new to promote")
            return
        version = decision.version
        if push_tags:
            registry.push([f"{config.artifact}@{version}"])
    for stage in config.stages:
        try:
            result = deploy_stage(
                stage, version, registry=registry, target=deploy_target, materialise=materialise, log=typer.echo
            )
        except PromotionError as error:
            raise _fail(f"PROMOTION FAILED: {error}") from None
        if push_tags:
            registry.push([result.tag])
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
    import subprocess

    from slipway.deploy import ContainerTarget

    config, _, _, materialise = _promotion(params)
    if login:
        registry_host = config.image.split("/", 1)[0]
        user = os.environ.get("REGISTRY_USER") or os.environ.get("GITHUB_ACTOR") or "token"
        subprocess.run(
            ["docker", "login", registry_host, "--username", user, "--password-stdin"],
            input=os.environ.get("REGISTRY_TOKEN", ""), text=True, check=True, capture_output=True,
        )  # fmt: skip
    built = ContainerTarget(config, Path.cwd()).build(version, materialise(version))
    typer.echo(f"built {built}" + (" and pushed it" if config.push else ""))


@app.command("serve-stage")
def serve_stage(
    stage: Annotated[str, typer.Argument(help="stage whose tagged version to serve")] = "prod",
    params: ParamsOption = Path("params.yaml"),
) -> None:
    """Serve, in the foreground, the version tagged for a stage (falls back to the workspace model)."""
    import os
    import sys

    config, registry, _, materialise = _promotion(params)
    version = registry.stage_version(stage)
    if version is None:
        from slipway.deploy import artifact_path

        model_dir = Path(artifact_path(Path.cwd(), config.artifact)).parent
        typer.echo(f"no version tagged {stage} yet: serving the workspace model in {model_dir}")
    else:
        model_dir = materialise(version)
        os.environ["SLIPWAY_MODEL_VERSION"] = version
        typer.echo(f"serving {config.artifact} {version} ({stage}) from {model_dir}")
    port = str(config.stages[stage].port) if stage in config.stages else "8000"
    command = [sys.executable, "-m", "slipway.cli", "serve", "--model-dir", str(model_dir)]
    os.execv(sys.executable, [*command, "--host", config.host, "--port", port])


@app.command()
def lineage(
    version: Annotated[str, typer.Argument(help="registered version, e.g. v0.2.0")],
    params: ParamsOption = Path("params.yaml"),
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """The commit, data hash, params and metrics behind a registered version."""
    from dataclasses import asdict

    from slipway.config import load_config
    from slipway.registry import Registry, RegistryError
    from slipway.registry import lineage as find_lineage

    config = load_config(params).deploy
    try:
        found = find_lineage(Registry(Path.cwd(), config.artifact), version)
    except RegistryError as error:
        raise _fail(str(error)) from None
    typer.echo(json.dumps(asdict(found), indent=2) if as_json else found.render())


# --- serving -------------------------------------------------------------------------------------------------------


@app.command()
def serve(
    model_dir: Annotated[
        Path, typer.Option("--model-dir", envvar="SLIPWAY_MODEL_DIR", help="model folder (model.skops, metadata.json)")
    ] = Path("outputs/model"),
    host: Annotated[str, typer.Option(envvar="SLIPWAY_HOST", help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="SLIPWAY_PORT", help="port to listen on")] = 8000,
    prediction_log: Annotated[
        Path | None,
        typer.Option(envvar="SLIPWAY_PREDICTION_LOG", help="folder for the prediction log (JSON lines); off if unset"),
    ] = None,
    backend: Annotated[str, typer.Option(help="auto (ONNX when exported), onnx or sklearn")] = "auto",
    params: ParamsOption = Path("params.yaml"),
    access_log: Annotated[bool, typer.Option(help="log every request (metrics count them anyway)")] = False,
) -> None:
    """Serve the model folder over HTTP with one uvicorn worker (POST /predict, /health, /ready, /version, /metrics)."""
    import logging

    import uvicorn

    from slipway.serving import create_app

    if backend not in {"auto", "onnx", "sklearn"}:
        raise typer.BadParameter("use auto, onnx or sklearn", param_hint="--backend")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    api = create_app(model_dir, backend=backend, prediction_log=prediction_log, params_path=params)  # type: ignore[arg-type]
    uvicorn.run(api, host=host, port=port, workers=1, access_log=access_log, log_level="info")


@app.command()
def smoke(
    url: Annotated[str, typer.Option(help="base URL of the running API")] = "http://127.0.0.1:8000",
    expect_version: Annotated[str | None, typer.Option(help="fail unless /version reports this model version")] = None,
    expect_backend: Annotated[str | None, typer.Option(help="fail unless this backend serves (onnx, sklearn)")] = None,
    wait: Annotated[float, typer.Option(help="seconds to wait for /health to answer")] = 30.0,
) -> None:
    """Smoke-test a running API over HTTP: health, ready, version, a valid and an invalid prediction, metrics."""
    from slipway.serving.smoke import smoke_test

    result = smoke_test(url, expect_version=expect_version, expect_backend=expect_backend, wait=wait)
    typer.echo(result.render())
    raise typer.Exit(0 if result.ok else 1)


# ---- pull-request report, gate and comment (report.py, gate.py)

BaseOption = Annotated[
    str, typer.Option("--base", envvar="SLIPWAY_BASE", help="base branch to compare with (e.g. the PR's target)")
]


@app.command()
def report(
    base: BaseOption = "main",
    out: Annotated[Path, typer.Option(help="folder for report.md and its PNGs")] = Path("report"),
    params: ParamsOption = Path("params.yaml"),
    tests: Annotated[str, typer.Option(envvar="SLIPWAY_TESTS_RESULT", help="result of the tests job")] = "",
    data: Annotated[str, typer.Option(envvar="SLIPWAY_DATA_RESULT", help="result of the data-check job")] = "",
    train: Annotated[str, typer.Option(envvar="SLIPWAY_TRAIN_RESULT", help="result of the train job")] = "",
) -> None:
    """Write the pull-request report (params, metrics, plots, data, model card) against --base."""
    import time

    from slipway.config import load_config
    from slipway.report import Status, build_report

    started = time.perf_counter()
    path, inputs = build_report(Path.cwd(), base, load_config(params), Status(tests, data, train), out)
    size = sum(f.stat().st_size for f in out.iterdir() if f.is_file())
    verdict = (
        "no gate (no metrics)" if inputs.gate is None else ("gate passed" if inputs.gate.passed else "gate FAILED")
    )
    typer.echo(
        f"wrote {path} and {len(inputs.images)} image(s), {size / 1024:.0f} KiB, {verdict}, "
        f"in {time.perf_counter() - started:.1f} s"
    )


@app.command()
def gate(
    base: BaseOption = "main",
    params: ParamsOption = Path("params.yaml"),
    metrics: Annotated[Path, typer.Option(help="this revision's metrics")] = Path("outputs/metrics.json"),
) -> None:
    """The quality gate: exit 1, saying which metric fell by how much, when the model may not merge."""
    from slipway.config import load_config
    from slipway.gate import evaluate_gate, render_text
    from slipway.report import METRICS_PATH
    from slipway.revisions import json_at, resolve_base
    from slipway.report import METRICS_PATH, _json_at, resolve_base

    config = load_config(params)
    if not metrics.exists():
        typer.echo(f"gate FAILED: {metrics} not found (run `dvc repro`)")
        raise typer.Exit(1)
    sha = resolve_base(base, Path.cwd())
    result = evaluate_gate(json.loads(metrics.read_text()), json_at(sha, METRICS_PATH, Path.cwd()), config.gate)
    result = evaluate_gate(json.loads(metrics.read_text()), _json_at(sha, METRICS_PATH, Path.cwd()), config.gate)
    typer.echo(render_text(result))
    raise typer.Exit(0 if result.passed else 1)


@app.command()
def comment(
    report_file: Annotated[Path, typer.Argument(help="the report to post")] = Path("report/report.md"),
    params: ParamsOption = Path("params.yaml"),
) -> None:
    """Post the report as the PR's one sticky CML comment; skipped (not failed) without a token or on a fork."""
    import os
    import subprocess

    from slipway.config import load_config
    from slipway.report import comment_decision

    post, reason = comment_decision(
        token=bool(os.environ.get("REPO_TOKEN")),
        head_repository=os.environ.get("PR_HEAD_REPOSITORY", ""),
        repository=os.environ.get("GITHUB_REPOSITORY", ""),
    )
    if not post:
        typer.echo(f"not posting the PR comment: {reason} (the report is in the job summary)")
        return
    title = load_config(params).report.title
    command = ["cml", "comment", "update", "--target=pr", f"--watermark-title={title}", report_file.name]
    typer.echo(f"posting {report_file} as the sticky comment '{title}'")
    raise typer.Exit(subprocess.run(command, cwd=report_file.parent).returncode)


if __name__ == "__main__":
    app()
