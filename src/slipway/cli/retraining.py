"""Continuous-training verbs: `slipway ingest`, `retrain-pr`, `cloud-runner`. Exit codes: 0 done, 1 the data
cannot be ingested or proposed; `cloud-runner` exits with cml's code when the launch fails."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from slipway.cli.root import Failure, ParamsOption, app


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
    from slipway.config import load_config
    from slipway.retraining.ingest import ingest as ingest_period

    try:
        shifts = json.loads(shift) if shift.strip() else {}
    except ValueError as error:
        raise Failure(f"--shift is not JSON: {error}", 2) from None
    done = ingest_period(load_config(params), source, shifts, concept_shift, summary_out)
    typer.echo(f"ingested {done.rows_new:,} rows from {source}: {done.rows_before:,} -> {done.rows_after:,} rows")


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
    from slipway.config import load_config
    from slipway.retraining.pull_request import retrain_pr as open_pr

    done = open_pr(Path.cwd(), load_config(params), trigger, reason, issue, base, push, ingest_summary)
    opened = f"; PR {done['pull_request']}" if "pull_request" in done else ""
    typer.echo(f"branch {done['branch']} at {done['commit'][:12]}{opened}")


@app.command("cloud-runner")
def cloud_runner(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="say what would happen, launch nothing")] = False,
) -> None:
    """Launch a CML cloud runner when CML_CLOUD and its secrets are set; otherwise say why not (exit 0)."""
    import os

    from slipway.retraining.cloud_runner import launch_runner

    code = launch_runner(os.environ, dry_run, log=typer.echo)
    if code != 0:
        raise Failure(f"cml exited with {code}", code)
