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


@app.command()
def adopt(
    table: Annotated[Path, typer.Argument(help="your table (.csv or .parquet)")],
    target: Annotated[str, typer.Option(help="the column to predict")],
    id_column: Annotated[str | None, typer.Option("--id", help="a unique row identifier (not a feature)")] = None,
    time_column: Annotated[str | None, typer.Option("--time", help="an event-time column (not a feature)")] = None,
    task: Annotated[str, typer.Option(help="auto | binary | multiclass | regression")] = "auto",
    repo: Annotated[Path, typer.Option(help="the project's root folder")] = Path("."),
    dry_run: Annotated[bool, typer.Option("--dry-run", help="print the decisions, change nothing")] = False,
) -> None:
    """Make the pipeline yours: infer schema, task and features from your table and swap it in for the demo data."""
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
    typer.echo(describe(done.plan))
    typer.echo("")
    typer.echo(next_steps(done))


@app.command("cloud-runner")
def cloud_runner(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="say what would happen, launch nothing")] = False,
) -> None:
    """Launch a CML cloud runner when CML_CLOUD and its secrets are set; otherwise say why not (exit 0)."""
    import os
    import subprocess

    from slipway.scaleout import plan_runner

    plan = plan_runner(os.environ)
    typer.echo(plan.reason)
    if plan.command and not dry_run:
        typer.echo("$ " + " ".join(plan.command))
        code = subprocess.run(plan.command, check=False).returncode
        if code != 0:
            typer.echo(f"cloud-runner: cml exited with {code}", err=True)
            raise typer.Exit(code)
    output = os.environ.get("GITHUB_OUTPUT")
    if output:
        with open(output, "a") as handle:
            handle.write(f"runner={plan.runner if not dry_run else 'github'}\n")


if __name__ == "__main__":
    app()
