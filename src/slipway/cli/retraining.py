"""Continuous-training verbs: `slipway ingest`, `retrain-pr`, `cloud-runner`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from slipway.cli.app import ParamsOption, app
from slipway.cli.monitoring import _dvc_get_url

if TYPE_CHECKING:
    from slipway.config import DeployConfig
    from slipway.release.materialise import Materialiser
    from slipway.release.registry import Registry
    from slipway.release.targets.base import DeployTarget

    Promotion = tuple[DeployConfig, Registry, DeployTarget, Materialiser]


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
    from slipway.data.tables import read_table, write_table
    from slipway.retraining.ingest import IngestSummary, combine, next_demo_period

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
    from slipway.retraining.ingest import IngestSummary
    from slipway.retraining.pull_request import branch_name, open_retrain_pr, pr_body

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


@app.command("cloud-runner")
def cloud_runner(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="say what would happen, launch nothing")] = False,
) -> None:
    """Launch a CML cloud runner when CML_CLOUD and its secrets are set; otherwise say why not (exit 0)."""
    import os

    from slipway.adapters.commands import run_command
    from slipway.retraining.cloud_runner import plan_runner

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
