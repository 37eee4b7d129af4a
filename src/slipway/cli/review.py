"""Pull-request verbs: `slipway report`, `gate`, `comment`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from slipway.cli.app import ParamsOption, app

if TYPE_CHECKING:
    from slipway.config import DeployConfig
    from slipway.release.materialise import Materialiser
    from slipway.release.registry import Registry
    from slipway.release.targets.base import DeployTarget

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
    metrics: Annotated[Path, typer.Option(help="this revision's metrics")] = Path("outputs/metrics.json"),
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


@app.command()
def comment(
    report_file: Annotated[Path, typer.Argument(help="the report to post")] = Path("report/report.md"),
    params: ParamsOption = Path("params.yaml"),
) -> None:
    """Post the report as the PR's one sticky CML comment; skipped (not failed) without a token or on a fork."""
    import os

    from slipway.adapters.commands import run_command
    from slipway.config import load_config
    from slipway.review.comment import comment_decision

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
