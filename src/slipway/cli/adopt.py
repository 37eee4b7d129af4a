"""`slipway adopt`: bring your own table."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from slipway.cli.root import Failure, app

TASKS = ("auto", "binary", "multiclass", "regression")


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
    """Make the pipeline yours: infer schema, task and features from your table and swap it in for the demo data.

    Exit codes: 0 done, 1 the table cannot be adopted or an earlier adoption cannot be undone (nothing changed),
    2 bad options, 128 + N stopped by signal N (every change undone)."""
    from slipway.adopt.journal import ADOPT
    from slipway.adopt.journal import recover as recover_journal
    from slipway.adopt.signals import Interrupted

    try:
        undone = recover_journal(repo.resolve(), ADOPT)
    except Interrupted as stop:
        raise Failure(f"stopped by {stop.name}; nothing was changed", 128 + stop.signum) from None
    if undone is not None:
        typer.echo(f"adopt: {undone.summary()}", err=True)
    if recover:
        if undone is None:
            typer.echo("adopt: no interrupted adoption to undo")
        return
    if table is None or target is None:
        raise Failure("give the table and --target COLUMN (or --recover)", 2)
    if task not in TASKS:
        raise Failure(f"--task must be {', '.join(TASKS[:-1])} or {TASKS[-1]}, not {task!r}", 2)
    from slipway.adopt.apply import adopt as run_adopt
    from slipway.adopt.apply import next_steps
    from slipway.adopt.infer import AdoptError, AdoptOptions, describe

    options = AdoptOptions(target=target, id_column=id_column, time_column=time_column, task=task)  # type: ignore[arg-type]
    try:
        done = run_adopt(table, options, root=repo, dry_run=dry_run)
    except AdoptError as error:
        raise Failure(f"{error}; nothing was changed") from None
    except Interrupted as stop:
        message = f"stopped by {stop.name}; every change was undone, the repository is as it was"
        raise Failure(message, 128 + stop.signum) from None
    if done.recovered is not None:
        typer.echo(f"adopt: {done.recovered.summary()}", err=True)
    typer.echo(describe(done.plan))
    typer.echo("")
    typer.echo(next_steps(done))
