"""The root `slipway` app, which every verb module registers on: one-line errors for expected failures, shared
options, and the recovery of an interrupted adoption before any verb runs.

Every verb parses its options and calls the library. An expected failure (a :class:`Failure` a verb raises, or
one of the library's errors named in :data:`EXPECTED_FAILURES`) is shown here, and only here, as one red line
``<verb>: <message>`` on stderr, with secrets masked; the exit code is the failure's (1 unless the verb documents
another). Anything else is a bug and keeps its traceback. The app with every verb is :mod:`slipway.cli.app`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import click
import typer
from typer.core import TyperGroup

from slipway.cli.main import undo_interrupted_adoption

if TYPE_CHECKING:
    from typer._click import Context  # the click that typer vendors: the context TyperGroup.invoke is given


class Failure(Exception):
    """An expected failure of a verb: ``message`` is shown as one line, the process exits with ``code``."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


EXPECTED_FAILURES = frozenset(
    {
        "slipway.adapters.commands.CommandError",
        "slipway.adapters.dvc.DvcError",
        "slipway.adapters.http.NotReady",
        "slipway.adopt.journal.JournalError",
        "slipway.config.ConfigError",
        "slipway.data.tables.DataReadError",
        "slipway.monitoring.report.MonitorInputError",
        "slipway.release.promote.PromotionError",
        "slipway.release.registry.RegistryError",
        "slipway.release.targets.base.DeployError",
        "slipway.retraining.ingest.IngestError",
        "slipway.template.proposal.TemplateError",
    }
)
"""The library's errors whose message is meant for the user (and their subclasses): one line, exit 1. Named, not
imported, so that telling them apart needs none of the modules that raise them."""


def is_expected(error: BaseException) -> bool:
    """Whether ``error`` is a :class:`Failure` or one of :data:`EXPECTED_FAILURES`."""
    return isinstance(error, Failure) or any(
        f"{kind.__module__}.{kind.__qualname__}" in EXPECTED_FAILURES for kind in type(error).__mro__
    )


def show_failure(verb: str, message: str) -> None:
    """Print an expected failure the one way: ``<verb>: <message>`` in red on stderr, secrets masked."""
    import os

    from slipway.adapters.commands import redact, secrets_in

    typer.secho(f"{verb}: {redact(message, secrets_in(os.environ))}", fg=typer.colors.RED, err=True)


def shown_failure(verb: str, error: Exception) -> int | None:
    """Show ``error`` of ``verb`` (:func:`show_failure`) and return its exit code if it is expected; None (nothing
    shown) if it is a bug, whose traceback the caller keeps."""
    if not is_expected(error):
        return None
    show_failure(verb, str(error))
    return error.code if isinstance(error, Failure) else 1


class _Verbs(TyperGroup):
    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise  # exit codes and usage errors: click's own
        except Exception as error:
            code = shown_failure(ctx.invoked_subcommand or "slipway", error)
            if code is None:
                raise
            raise typer.Exit(code) from None


app = typer.Typer(
    cls=_Verbs, help="Slipway: data checks, reports, promotion, serving and monitoring.", no_args_is_help=True
)


ParamsOption = Annotated[Path, typer.Option("--params", help="params.yaml to read")]


@app.callback()
def _undo_interrupted_adoption(ctx: typer.Context) -> None:
    undo_interrupted_adoption(ctx.invoked_subcommand)
