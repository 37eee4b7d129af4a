"""The `slipway` command: the verbs that people, the Makefile and the workflows call."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from slipway.config import DeployConfig
    from slipway.deploy import DeployTarget, Materialiser
    from slipway.registry import Decision, Registry

    Promotion = tuple[DeployConfig, Registry, DeployTarget, Materialiser]


def _expected_failures() -> tuple[type[Exception], ...]:
    """Failures with a message meant for the user: shown as one line (exit 1), never as a traceback."""
    from slipway.commands import CommandError
    from slipway.deploy import DeployError, PromotionError
    from slipway.registry import RegistryError

    return CommandError, DeployError, PromotionError, RegistryError


class _Slipway(typer.Typer):
    def __call__(self, *args: object, **kwargs: object) -> object:
        try:
            return super().__call__(*args, **kwargs)
        except Exception as error:
            if not isinstance(error, _expected_failures()):
                raise
            import os
            import sys

            from slipway.commands import redact, secrets_in

            typer.secho(f"error: {redact(str(error), secrets_in(os.environ))}", fg=typer.colors.RED, err=True)
            sys.exit(1)


app = _Slipway(help="Slipway: data checks, reports, promotion, serving and monitoring.", no_args_is_help=True)

ParamsOption = Annotated[Path, typer.Option("--params", help="params.yaml to read")]


@app.callback()
def _undo_interrupted_adoption(ctx: typer.Context) -> None:
    # Any verb run in a project where `slipway adopt` was killed midway first puts the project back as it was.
    from slipway.journal import ADOPT, JournalBusy, JournalError, pending, recover

    if ctx.invoked_subcommand == "adopt" or not pending(Path.cwd(), ADOPT):
        return  # adopt does it itself (for --repo); without a journal there is nothing to undo
    try:
        undone = recover(Path.cwd(), ADOPT, wait=0)
    except JournalBusy:
        return  # an adoption is running: it is not ours to undo
    except JournalError as error:
        raise _fail(f"slipway: {error}") from None
    if undone is not None:
        typer.echo(f"slipway: {undone.summary()}", err=True)


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
    """Check a table against the project's schema and what the pipeline needs (the same checks as the validate
    stage); exit 1 with a report naming columns and rows on failure."""
    from slipway.config import load_config
    from slipway.schemas import load_schema
    from slipway.validation import PipelineNeeds, render_markdown, render_text, validate_file

    config = load_config(params)
    result = validate_file(table, load_schema(config.data.schema_path), PipelineNeeds.from_config(config))
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


def _promotion(params: Path, target: str | None = None) -> Promotion:
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


@app.command("check-remote")
def check_remote(
    remote: Annotated[str | None, typer.Argument(help="DVC remote name (default: the default remote)")] = None,
) -> None:
    """Exit 1, naming the DVC remote and its URL, when it cannot be reached (DVC reports that as missing files)."""
    from slipway.dvc_remote import remote_problem

    problem = remote_problem(Path.cwd(), remote)
    if problem:
        raise _fail(problem)
    typer.echo(f"DVC remote {remote or '(default)'} answers")


@app.command("verify-lock")
def verify_lock() -> None:
    """Check that dvc.lock matches this commit's code, data and params (run after `dvc pull`)."""
    import yaml

    from slipway.commands import run_command
    from slipway.dvc_remote import remote_problem
    from slipway.lockcheck import lock_problems, missing_inputs, pipeline_outputs

    status = json.loads(run_command(["dvc", "status", "--json"]).stdout or "{}")
    outputs = pipeline_outputs(yaml.safe_load(Path("dvc.yaml").read_text()))
    missing = missing_inputs(status, outputs)
    if missing and (unreachable := remote_problem(Path.cwd())):
        raise _fail(f"{unreachable} (so {', '.join(missing)} could not be pulled)")
    problems = lock_problems(status, outputs)
    if problems:
        raise _fail(
            "dvc.lock does not match this commit (run `dvc repro` and commit dvc.lock):\n  " + "\n  ".join(problems)
        )
    typer.echo("dvc.lock matches the code, data and params")


def _register_workspace_model(config: DeployConfig, registry: Registry, push_tags: bool) -> Decision:
    """Register the workspace's model file if it changed (pushing the new tag when asked); say what happened."""
    from slipway.deploy import artifact_path, folder_digests
    from slipway.provenance import file_md5

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
    promotion = _promotion(params, target)
    config, registry = promotion[0], promotion[1]
    if stage not in config.stages:
        raise _fail(f"unknown stage {stage!r}; params.yaml deploy.stages has {', '.join(config.stages)}", 2)
    chosen = version or registry.stage_version(stage)
    if chosen is None:
        raise _fail(f"no version is tagged {stage}; pass --version", 2)
    from slipway.deploy import PromotionError, deploy_stage

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
    from slipway.deploy import PromotionError
    from slipway.deploy import promote as promote_stages

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

    from slipway.commands import run_command
    from slipway.deploy import ContainerTarget

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
    max_body_bytes: Annotated[
        int | None,
        typer.Option(
            envvar="SLIPWAY_MAX_BODY_BYTES",
            min=1,
            help="largest request body in bytes; larger gets 413 [default: 4 MiB]",
        ),
    ] = None,
) -> None:
    """Serve the model folder over HTTP with one uvicorn worker (POST /predict, /health, /ready, /version, /metrics)."""
    import logging

    import uvicorn

    from slipway.serving import create_app

    if backend not in {"auto", "onnx", "sklearn"}:
        raise typer.BadParameter("use auto, onnx or sklearn", param_hint="--backend")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    api = create_app(
        model_dir,
        backend=backend,
        prediction_log=prediction_log,
        params_path=params,
        max_body_bytes=max_body_bytes,  # type: ignore[arg-type]
    )
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

    config = load_config(params)
    if not metrics.exists():
        typer.echo(f"gate FAILED: {metrics} not found (run `dvc repro`)")
        raise typer.Exit(1)
    sha = resolve_base(base, Path.cwd())
    result = evaluate_gate(json.loads(metrics.read_text()), json_at(sha, METRICS_PATH, Path.cwd()), config.gate)
    result = evaluate_gate(json.loads(metrics.read_text()), json_at(sha, METRICS_PATH, Path.cwd()), config.gate)
    typer.echo(render_text(result))
    raise typer.Exit(0 if result.passed else 1)


@app.command()
def comment(
    report_file: Annotated[Path, typer.Argument(help="the report to post")] = Path("report/report.md"),
    params: ParamsOption = Path("params.yaml"),
) -> None:
    """Post the report as the PR's one sticky CML comment; skipped (not failed) without a token or on a fork."""
    import os

    from slipway.commands import run_command
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
    raise typer.Exit(run_command(command, report_file.parent, check=False, capture=False).returncode)


# --- monitoring and continuous training ---------------------------------------------------------------------


@app.command("reference-profile")
def reference_profile(
    table: Annotated[Path, typer.Argument(help="the training split (CSV or Parquet)")] = Path(
        "outputs/prepared/train.parquet"
    ),
    out: Annotated[Path | None, typer.Option(help="where to write it (default: monitor.reference)")] = None,
    params: ParamsOption = Path("params.yaml"),
) -> None:
    """Write the compact reference profile of the training data that `slipway monitor` compares against."""
    from slipway.config import load_config
    from slipway.data import read_table
    from slipway.io import replace_on_success
    from slipway.monitoring import build_profile

    config = load_config(params)
    settings = config.monitor
    profile = build_profile(
        read_table(table), config.features.numeric, config.features.categorical, settings.bins, settings.sample_size
    )
    out = out or Path(settings.reference)
    with replace_on_success(out) as (written,):
        written.write_text(profile.to_json())
    typer.echo(f"profiled {profile.rows:,} rows, {len(profile.features)} features -> {out}")


def _github_outputs(values: dict[str, str]) -> None:
    """Step outputs when running inside GitHub Actions (multi-line safe)."""
    import os
    import uuid

    target = os.environ.get("GITHUB_OUTPUT")
    if not target:
        return
    with open(target, "a", encoding="utf-8") as handle:
        for key, value in values.items():
            marker = f"EOF_{uuid.uuid4().hex}"
            handle.write(f"{key}<<{marker}\n{value}\n{marker}\n")


@app.command()
def monitor(
    params: ParamsOption = Path("params.yaml"),
    out: Annotated[Path, typer.Option(help="report folder")] = Path("outputs/monitoring"),
    log_dir: Annotated[Path | None, typer.Option(help="prediction log folder (default: monitor.log_dir)")] = None,
    labels_dir: Annotated[Path | None, typer.Option(help="labels folder (default: monitor.labels_dir)")] = None,
    reference: Annotated[Path | None, typer.Option(help="reference profile (default: monitor.reference)")] = None,
    fail_on_alert: Annotated[
        bool, typer.Option(help="exit 3/4/5 on drift / KPI breach / both (--no-fail-on-alert: exit 0, for CI steps)")
    ] = True,
) -> None:
    """Compare recent production inputs (and labels) with the training reference.

    Exit codes: 0 healthy, 3 drift, 4 KPI breach, 5 drift and KPI breach, 6 not enough data (never "healthy"),
    1 cannot run (no reference profile, bad params). Writes report.md, issue.md, summary.json and PNGs to --out;
    inside GitHub Actions also the step outputs status/alert/summary and the step summary.
    """
    import os

    from slipway.config import load_config
    from slipway.monitor_report import MonitorInputError, run_monitor, write_report
    from slipway.monitoring import Status

    config = load_config(params)
    settings = config.monitor
    try:
        result = run_monitor(
            log_dir or Path(settings.log_dir),
            labels_dir or Path(settings.labels_dir),
            reference or Path(settings.reference),
            settings,
            config.evaluate.threshold,
            task=config.data.task,
        )
    except MonitorInputError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    run_url = None
    if os.environ.get("GITHUB_RUN_ID"):
        server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
        run_url = f"{server}/{os.environ.get('GITHUB_REPOSITORY', '')}/actions/runs/{os.environ['GITHUB_RUN_ID']}"
    paths = write_report(result, out, run_url=run_url)
    for note in result.notes:
        typer.echo(f"note: {note}")
    typer.echo(result.summary())
    typer.echo(f"report: {paths['report']}")
    _github_outputs(
        {"status": result.status.value, "alert": str(result.status.alert).lower(), "summary": result.summary()}
    )
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as handle:
            handle.write(paths["issue"].read_text())
    code = result.status.exit_code
    if not fail_on_alert and result.status.alert:
        code = 0
    raise typer.Exit(code if result.status != Status.HEALTHY else 0)


@app.command("record-labels")
def record_labels_command(
    table: Annotated[Path, typer.Argument(help="CSV, Parquet or JSON lines with request_id, label [, record]")],
    params: ParamsOption = Path("params.yaml"),
    labels_dir: Annotated[Path | None, typer.Option(help="labels folder (default: monitor.labels_dir)")] = None,
) -> None:
    """Record ground truth that arrived after the predictions (joined to the log by request id)."""
    import pandas as pd

    from slipway.config import load_config
    from slipway.data import read_table
    from slipway.labels import record_labels

    config = load_config(params)
    if table.suffix == ".jsonl":
        frame = pd.read_json(table, lines=True, dtype={"request_id": str})
    else:
        frame = read_table(table)
    try:
        path = record_labels(labels_dir or Path(config.monitor.labels_dir), frame, task=config.data.task)
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"recorded {len(frame):,} labels in {path}")


def _dvc_get_url(source: str, target: Path) -> None:
    """``dvc get-url`` a file or folder (any DVC URL); exit 1 with one line (credentials masked) when it fails."""
    import sys

    from slipway.commands import CommandError, redact, run_command

    try:
        run_command([sys.executable, "-m", "dvc", "get-url", source, str(target)])
    except CommandError as error:
        typer.echo(f"error: cannot fetch {redact(source, [])}: {error}", err=True)
        raise typer.Exit(1) from None


@app.command("fetch-logs")
def fetch_logs(
    predictions: Annotated[
        str, typer.Option(help="where the serving API's log lives (any DVC URL)", envvar="PREDICTION_LOG_SOURCE")
    ] = "",
    labels: Annotated[str, typer.Option(help="where labels are collected (any DVC URL)", envvar="LABELS_SOURCE")] = "",
    params: ParamsOption = Path("params.yaml"),
) -> None:
    """Copy the prediction log and the labels (s3://, gs://, azure://, ssh://, a folder...) to monitor.log_dir and
    monitor.labels_dir with `dvc get-url`. Without a source the folders are used as they are."""
    import shutil

    from slipway.config import load_config

    settings = load_config(params).monitor
    for source, target in ((predictions, settings.log_dir), (labels, settings.labels_dir)):
        if not source:
            typer.echo(f"no source given: using {target} as it is")
            continue
        shutil.rmtree(target, ignore_errors=True)
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        _dvc_get_url(source, Path(target))
        typer.echo(f"fetched {sum(1 for _ in Path(target).glob('*.jsonl'))} files into {target}")


@app.command()
def alert(
    report: Annotated[Path, typer.Option(help="markdown for the issue body")] = Path("outputs/monitoring/issue.md"),
    summary: Annotated[Path, typer.Option(help="the monitor's summary.json")] = Path("outputs/monitoring/summary.json"),
    title: Annotated[str, typer.Option(help="title of the one alert issue")] = "Model monitoring alert",
    label: Annotated[str, typer.Option(help="label that marks it")] = "monitoring-alert",
    dispatch: Annotated[
        str, typer.Option(help="workflow to dispatch for retraining ('' for none)", envvar="SLIPWAY_RETRAIN_WORKFLOW")
    ] = "retrain.yml",
    ref: Annotated[str | None, typer.Option(help="branch to run it on", envvar="GITHUB_REF_NAME")] = None,
) -> None:
    """Open (or update: never a duplicate) the monitoring issue with the report and start retraining (gh CLI)."""
    from slipway.alerts import raise_alert

    data = json.loads(summary.read_text())
    if data.get("status") not in {"drift", "kpi_breach", "drift_and_kpi_breach"}:
        typer.echo(f"status {data.get('status')!r}: nothing to alert")
        return
    outcome = raise_alert(report.read_text(), data["summary"], title, label, dispatch or None, ref)
    verb = "opened" if outcome.created else "updated"
    typer.echo(f"{verb} issue #{outcome.issue}" + (f"; dispatched {dispatch}" if outcome.dispatched else ""))


@app.command()
def ingest(
    source: Annotated[
        str,
        typer.Option(help="'demo' (generate the next period) or a table path/URL", envvar="INGEST_SOURCE"),
    ] = "demo",
    shift: Annotated[
        str, typer.Option(help='demo: JSON numeric shifts, e.g. {"age": 0.5}', envvar="INGEST_SHIFT")
    ] = "",
    concept_shift: Annotated[float, typer.Option(help="demo: weaken the churn signal (0-1)")] = 0.0,
    params: ParamsOption = Path("params.yaml"),
    summary_out: Annotated[Path, typer.Option("--summary")] = Path("outputs/retrain/ingest.json"),
) -> None:
    """Add a new period of data to the training data (params: retrain.mode, retrain.max_rows)."""
    import tempfile

    from slipway.config import load_config
    from slipway.data import read_table, write_table
    from slipway.retrain import IngestSummary, combine, next_demo_period

    config = load_config(params)
    current = read_table(config.data.path)
    shifts = json.loads(shift) if shift.strip() else {}
    if source == "demo":
        new = next_demo_period(current, config, shifts, concept_shift)
    else:
        with tempfile.TemporaryDirectory() as folder:
            target = Path(folder) / Path(source.rstrip("/")).name
            _dvc_get_url(source, target)
            new = read_table(target)
    try:
        combined = combine(current, new, config.retrain)
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    write_table(combined, config.data.path)
    result = IngestSummary(source, len(current), len(new), len(combined), config.retrain.mode, shifts)
    summary_out.parent.mkdir(parents=True, exist_ok=True)
    summary_out.write_text(result.to_json())
    typer.echo(f"ingested {len(new):,} rows from {source}: {len(current):,} -> {len(combined):,} rows")


@app.command("retrain-pr")
def retrain_pr(
    trigger: Annotated[str, typer.Option(envvar="RETRAIN_TRIGGER", help="what started it")] = "manual",
    reason: Annotated[str, typer.Option(envvar="RETRAIN_REASON", help="why (e.g. the monitor's summary)")] = "",
    issue: Annotated[str, typer.Option(envvar="RETRAIN_ISSUE", help="the monitoring issue number")] = "",
    base: Annotated[str, typer.Option(help="branch the PR targets")] = "main",
    push: Annotated[bool, typer.Option(help="push the branch and open the PR (--no-push: local branch only)")] = True,
    params: ParamsOption = Path("params.yaml"),
    ingest_summary: Annotated[Path, typer.Option("--ingest-summary")] = Path("outputs/retrain/ingest.json"),
) -> None:
    """dvc add + dvc push the new data, commit data.dvc on a new branch, push it and open a PR explaining why."""
    import os

    from slipway.config import load_config
    from slipway.retrain import IngestSummary, branch_name, open_retrain_pr, pr_body

    config = load_config(params)
    summary = IngestSummary(**json.loads(ingest_summary.read_text())) if ingest_summary.exists() else None
    run_url = ""
    if os.environ.get("GITHUB_RUN_ID"):
        server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
        run_url = f"{server}/{os.environ.get('GITHUB_REPOSITORY', '')}/actions/runs/{os.environ['GITHUB_RUN_ID']}"
    branch = branch_name(config.retrain.branch_prefix, suffix=os.environ.get("GITHUB_RUN_ID", ""))
    title = f"Retrain on new data ({trigger})"
    try:
        done = open_retrain_pr(Path.cwd(), branch, title, pr_body(trigger, reason, summary, issue, run_url), base, push)
    except RuntimeError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    opened = f"; PR {done['pull_request']}" if "pull_request" in done else ""
    typer.echo(f"branch {done['branch']} at {done['commit'][:12]}{opened}")


@app.command()
def adopt(
    table: Annotated[Path | None, typer.Argument(help="your table (.csv or .parquet)")] = None,
    target: Annotated[str | None, typer.Option(help="the column to predict (required)")] = None,
    id_column: Annotated[str | None, typer.Option("--id", help="a unique row identifier (not a feature)")] = None,
    time_column: Annotated[str | None, typer.Option("--time", help="an event-time column (not a feature)")] = None,
    task: Annotated[str, typer.Option(help="auto | binary | multiclass | regression")] = "auto",
    repo: Annotated[Path, typer.Option(help="the project's root folder")] = Path("."),
    dry_run: Annotated[bool, typer.Option("--dry-run", help="print the decisions, change nothing")] = False,
    recover: Annotated[
        bool, typer.Option("--recover", help="only undo an adoption that was interrupted (killed), if there is one")
    ] = False,
) -> None:
    """Make the pipeline yours: infer schema, task and features from your table and swap it in for the demo data."""
    from slipway.journal import ADOPT, Interrupted, JournalError
    from slipway.journal import recover as recover_journal

    try:
        undone = recover_journal(repo.resolve(), ADOPT)
    except JournalError as error:
        raise _fail(f"adopt: {error}") from None
    except Interrupted as stop:
        raise _fail(f"adopt: stopped by {stop.name}; nothing was changed", 128 + stop.signum) from None
    if undone is not None:
        typer.echo(f"adopt: {undone.summary()}", err=True)
    if recover:
        if undone is None:
            typer.echo("adopt: no interrupted adoption to undo")
        return
    if table is None or target is None:
        raise _fail("adopt: give the table and --target COLUMN (or --recover)", 2)
    from slipway.adopt import AdoptError, AdoptOptions, describe, next_steps
    from slipway.adopt import adopt as run_adopt

    if task not in ("auto", "binary", "multiclass", "regression"):
        typer.echo(f"adopt: --task must be auto, binary, multiclass or regression, not {task!r}", err=True)
        raise typer.Exit(2)
    options = AdoptOptions(target=target, id_column=id_column, time_column=time_column, task=task)  # type: ignore[arg-type]
    try:
        done = run_adopt(table, options, root=repo, dry_run=dry_run)
    except AdoptError as error:
        typer.echo(f"adopt: {error}", err=True)
        typer.echo("adopt: nothing was changed.", err=True)
        raise typer.Exit(1) from None
    except JournalError as error:
        raise _fail(f"adopt: {error}") from None
    except Interrupted as stop:
        message = f"adopt: stopped by {stop.name}; every change was undone, the repository is as it was"
        raise _fail(message, 128 + stop.signum) from None
    if done.recovered is not None:
        typer.echo(f"adopt: {done.recovered.summary()}", err=True)
    typer.echo(describe(done.plan))
    typer.echo("")
    typer.echo(next_steps(done))


@app.command("cloud-runner")
def cloud_runner(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="say what would happen, launch nothing")] = False,
) -> None:
    """Launch a CML cloud runner when CML_CLOUD and its secrets are set; otherwise say why not (exit 0)."""
    import os

    from slipway.commands import run_command
    from slipway.scaleout import plan_runner

    plan = plan_runner(os.environ)
    typer.echo(plan.reason)
    if plan.command and not dry_run:
        typer.echo("$ " + " ".join(plan.command))
        code = run_command(plan.command, check=False, capture=False).returncode
        if code != 0:
            typer.echo(f"cloud-runner: cml exited with {code}", err=True)
            raise typer.Exit(code)
    output = os.environ.get("GITHUB_OUTPUT")
    if output:
        with open(output, "a") as handle:
            handle.write(f"runner={plan.runner if not dry_run else 'github'}\n")


# ---------------------------------------------------------------- template updates (docs/upgrading.md)
from slipway.template_cli import register as _register_template_verbs  # noqa: E402

_register_template_verbs(app)


if __name__ == "__main__":
    app()
