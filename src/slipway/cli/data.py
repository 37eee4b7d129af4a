"""Data verbs: `slipway generate`, `slipway validate`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from slipway.cli.root import ParamsOption, app


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
    from slipway.data.generator import ChurnSettings, generate_churn
    from slipway.data.tables import write_table

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
    from slipway.data.schema import load_schema
    from slipway.data.validation import PipelineNeeds, render_markdown, render_text, validate_file

    config = load_config(params)
    result = validate_file(table, load_schema(config.data.schema_path), PipelineNeeds.from_config(config))
    if report:
        report.write_text(render_markdown(result))
    typer.echo(render_text(result))
    raise typer.Exit(0 if result.ok else 1)
