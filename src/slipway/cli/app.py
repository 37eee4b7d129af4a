"""The root `slipway` app: one-line errors for expected failures, shared options, and the recovery of an
interrupted adoption before any verb runs.

Every verb parses its options and calls the library. An expected failure (a :class:`Failure` a verb raises, or
one of the library's errors named in :data:`EXPECTED_FAILURES`) is shown here, and only here, as one red line
``<verb>: <message>`` on stderr, with secrets masked; the exit code is the failure's (1 unless the verb documents
another). Anything else is a bug and keeps its traceback."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import click
import typer
from typer.core import TyperGroup

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


def exit_at_once(code: int) -> NoReturn:
    """End the process with ``code`` once its exit handlers have run and its output is flushed, without the
    interpreter's teardown of every module it imported (after DVC, about a thousand: a tenth of a second or more).
    A normal exit instead when the standard streams do not write to the process's own descriptors (a test runner
    captures them) or a thread the teardown would wait for is still running."""
    import atexit
    import os
    import sys
    import threading

    if not (_writes_to(sys.stdout, 1) and _writes_to(sys.stderr, 2)) or any(
        thread is not threading.main_thread() and not thread.daemon for thread in threading.enumerate()
    ):
        raise SystemExit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(code)


def _writes_to(stream: Any, fd: int) -> bool:
    """Whether ``stream`` writes to the descriptor ``fd`` (through any wrapper, such as colorama's)."""
    try:
        return bool(stream.fileno() == fd)
    except (AttributeError, OSError, ValueError):  # an in-memory stream
        return False


class _Verbs(TyperGroup):
    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise  # exit codes and usage errors: click's own
        except Exception as error:
            if not is_expected(error):
                raise
            show_failure(ctx.invoked_subcommand or "slipway", str(error))
            raise typer.Exit(error.code if isinstance(error, Failure) else 1) from None


app = typer.Typer(
    cls=_Verbs, help="Slipway: data checks, reports, promotion, serving and monitoring.", no_args_is_help=True
)


ParamsOption = Annotated[Path, typer.Option("--params", help="params.yaml to read")]


@app.callback()
def _undo_interrupted_adoption(ctx: typer.Context) -> None:
    # Any verb run in a project where `slipway adopt` was killed midway first puts the project back as it was.
    from slipway.adopt.journal import ADOPT, JournalBusy, pending, recover

    if ctx.invoked_subcommand == "adopt" or not pending(Path.cwd(), ADOPT):
        return  # adopt does it itself (for --repo); without a journal there is nothing to undo
    try:
        undone = recover(Path.cwd(), ADOPT, wait=0)
    except JournalBusy:
        return  # an adoption is running: it is not ours to undo
    if undone is not None:
        typer.echo(f"slipway: {undone.summary()}", err=True)
