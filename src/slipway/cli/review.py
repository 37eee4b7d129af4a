"""Pull-request verbs: `slipway report`, `gate`, `comment`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from slipway.cli.root import ParamsOption, app
from slipway.pipeline.paths import METRICS

if TYPE_CHECKING:
    from slipway.config import DeployConfig
    from slipway.release.materialise import Materialiser
    from slipway.release.registry import Registry
    from slipway.release.targets.base import DeployTarget
    from slipway.review.comment import RunContext

    Promotion = tuple[DeployConfig, Registry, DeployTarget, Materialiser]


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
    from slipway.review.gather import build_report
    from slipway.review.report import Status

    started = time.perf_counter()
    path, inputs = build_report(Path.cwd(), base, load_config(params), Status(tests, data, train), out)
    size = sum(f.stat().st_size for f in out.iterdir() if f.is_file())
    verdicts = {
        "pass": "gate passed",
        "inconclusive": "gate inconclusive (passes with a warning)",
        "fail": "gate FAILED",
    }
    verdict = "no gate (no metrics)" if inputs.gate is None else verdicts[inputs.gate.verdict]
    typer.echo(
        f"wrote {path} and {len(inputs.images)} image(s), {size / 1024:.0f} KiB, {verdict}, "
        f"in {time.perf_counter() - started:.1f} s"
    )


@app.command()
def gate(
    base: BaseOption = "main",
    params: ParamsOption = Path("params.yaml"),
    metrics: Annotated[Path, typer.Option(help="this revision's metrics")] = METRICS,
) -> None:
    """The quality gate: exit 1, saying which metric got worse by how much, when the model may not merge; an
    inconclusive check (its interval straddles the allowed regression) passes with a warning."""
    import os

    from slipway.config import load_config
    from slipway.review.gate import render_text
    from slipway.review.gather import gate_against_base

    config = load_config(params)
    if not metrics.exists():
        typer.echo(f"gate FAILED: {metrics} not found (run `dvc repro`)")
        raise typer.Exit(1)
    result = gate_against_base(Path.cwd(), base, config, json.loads(metrics.read_text()))
    typer.echo(render_text(result))
    for check in result.inconclusive:
        typer.echo(f"warning: inconclusive: {check.message}")
        if os.environ.get("GITHUB_ACTIONS") == "true":  # an annotation on the pull request's checks
            typer.echo(f"::warning title=Quality gate inconclusive::{check.message}")
    raise typer.Exit(0 if result.passed else 1)


ReportDirOption = Annotated[
    Path, typer.Option("--report-dir", envvar="SLIPWAY_REPORT_DIR", help="the downloaded report artifact")
]


def _run_context() -> RunContext:
    """The finished run as the ``workflow_run`` event describes it (the workflow passes these variables)."""
    import os

    from slipway.review.comment import RunContext

    try:
        pull_requests = json.loads(os.environ.get("RUN_PULL_REQUESTS") or "[]")
    except json.JSONDecodeError:
        pull_requests = []
    return RunContext(
        repository=os.environ.get("GITHUB_REPOSITORY", ""),
        head_sha=os.environ.get("RUN_HEAD_SHA", ""),
        head_repository=os.environ.get("RUN_HEAD_REPOSITORY", ""),
        pull_requests=pull_requests if isinstance(pull_requests, list) else [],
        event=os.environ.get("RUN_EVENT", "pull_request"),
        run_url=os.environ.get("RUN_URL", ""),
        server_url=os.environ.get("GITHUB_SERVER_URL") or "https://github.com",
    )


def _token() -> str:
    import os

    return os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN") or ""


@app.command()
def comment(
    report_dir: ReportDirOption = Path("report"),
    params: ParamsOption = Path("params.yaml"),
    pull_request: Annotated[
        int | None, typer.Option(help="post on this pull request (by hand; the workflow takes it from the event)")
    ] = None,
) -> None:
    """Post the report artifact as the PR's one sticky comment, its PNGs where `report.images` says. The artifact is
    untrusted: it is checked first, and the pull request comes from the workflow_run event, never from it."""
    from slipway.config import load_config
    from slipway.review.comment import CommentError, gh_api, post_report
    from slipway.review.report_artifact import ReportRefused

    token = _token()
    if not token:
        typer.echo("not posting the PR comment: no token (GITHUB_TOKEN is not set)")
        return
    report = load_config(params).report
    try:
        done = post_report(report_dir, _run_context(), report, Path.cwd(), token, gh_api(token), pull_request)
    except ReportRefused as error:
        typer.echo(f"report refused, nothing pushed or posted: {error}", err=True)
        raise typer.Exit(1) from None
    except CommentError as error:
        typer.echo(f"the report was not posted: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(done)


@app.command("prune-report-images")
def prune_report_images(params: ParamsOption = Path("params.yaml")) -> None:
    """Drop the image branch's folders of pull requests that are no longer open (`report.images: github`)."""
    import os

    from slipway.config import load_config
    from slipway.review.comment import CommentError, gh_api, open_pull_requests
    from slipway.review.image_branch import ImageBranch, ImageBranchError

    report = load_config(params).report
    token = _token()
    if report.images != "github" or not token:
        typer.echo(f"nothing to prune: report.images is {report.images}" if token else "no token (GITHUB_TOKEN)")
        return
    try:
        open_now = open_pull_requests(os.environ.get("GITHUB_REPOSITORY", ""), gh_api(token))
        ImageBranch(Path.cwd(), report.image_branch, token).update(open_now)
    except (CommentError, ImageBranchError) as error:
        typer.echo(f"pruning {report.image_branch} failed: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{report.image_branch}: kept the folders of {len(open_now)} open pull request(s)")
