"""`slipway adopt`: bring your own table."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from slipway.cli.app import _fail, app

if TYPE_CHECKING:
    from slipway.config import DeployConfig
    from slipway.release.materialise import Materialiser
    from slipway.release.registry import Registry
    from slipway.release.targets.base import DeployTarget

    Promotion = tuple[DeployConfig, Registry, DeployTarget, Materialiser]


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
    from slipway.adopt.journal import ADOPT, Interrupted, JournalError
    from slipway.adopt.journal import recover as recover_journal

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
    from slipway.adopt.apply import adopt as run_adopt
    from slipway.adopt.apply import next_steps
    from slipway.adopt.infer import AdoptError, AdoptOptions, describe

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
