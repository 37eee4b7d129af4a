"""Pipeline verbs: `slipway repro`, `verify-lock`, `reference-profile`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from slipway.cli.main import exit_at_once
from slipway.cli.repro import reproduce
from slipway.cli.root import Failure, ParamsOption, app


@app.command("repro", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def repro(context: typer.Context) -> None:
    """`dvc repro` with its options, its stages run in one stage host: the libraries are imported once, not once
    per stage (the same stages, outputs and dvc.lock as `dvc repro`). DVC runs in this process, which then ends
    without tearing down the modules DVC imported."""
    exit_at_once(reproduce(context.args))


@app.command("verify-lock")
def verify_lock() -> None:
    """Check that dvc.lock matches this commit's code, data and params (run after `dvc pull`)."""
    import yaml

    from slipway.adapters.dvc import pipeline_status, remote_problem
    from slipway.pipeline.lock_check import lock_problems, missing_inputs, pipeline_outputs

    status = pipeline_status(Path.cwd())
    outputs = pipeline_outputs(yaml.safe_load(Path("dvc.yaml").read_text()))
    missing = missing_inputs(status, outputs)
    if missing and (unreachable := remote_problem(Path.cwd())):
        raise Failure(f"{unreachable} (so {', '.join(missing)} could not be pulled)")
    problems = lock_problems(status, outputs)
    if problems:
        stale = "; ".join(problems)
        raise Failure(f"dvc.lock does not match this commit (run `dvc repro` and commit dvc.lock): {stale}")
    typer.echo("dvc.lock matches the code, data and params")


@app.command("reference-profile")
def reference_profile(
    table: Annotated[Path, typer.Argument(help="the training split (CSV or Parquet)")] = Path(
        "outputs/prepared/train.parquet"
    ),
    out: Annotated[Path | None, typer.Option(help="where to write it (default: monitor.reference)")] = None,
    params: ParamsOption = Path("params.yaml"),
) -> None:
    """Write the compact reference profile of the training data that `slipway monitor` compares against."""
    from slipway.adapters.files import replace_on_success
    from slipway.config import load_config
    from slipway.data.tables import read_table
    from slipway.monitoring.profile import build_profile

    config = load_config(params)
    settings = config.monitor
    profile = build_profile(
        read_table(table), config.features.numeric, config.features.categorical, config.drift.bins, settings.sample_size
    )
    out = out or Path(settings.reference)
    with replace_on_success(out) as (written,):
        written.write_text(profile.to_json())
    typer.echo(f"profiled {profile.rows:,} rows, {len(profile.features)} features -> {out}")
