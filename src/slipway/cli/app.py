"""The root `slipway` app: one-line errors for expected failures, shared options, and the recovery of an
interrupted adoption before any verb runs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from slipway.config import DeployConfig
    from slipway.release.materialise import Materialiser
    from slipway.release.registry import Registry
    from slipway.release.targets.base import DeployTarget

    Promotion = tuple[DeployConfig, Registry, DeployTarget, Materialiser]


def _expected_failures() -> tuple[type[Exception], ...]:
    """Failures with a message meant for the user: shown as one line (exit 1), never as a traceback."""
    from slipway.adapters.commands import CommandError
    from slipway.config import ConfigError
    from slipway.release.promote import PromotionError
    from slipway.release.registry import RegistryError
    from slipway.release.targets.base import DeployError

    return CommandError, ConfigError, DeployError, PromotionError, RegistryError


class _Slipway(typer.Typer):
    def __call__(self, *args: object, **kwargs: object) -> object:
        try:
            return super().__call__(*args, **kwargs)
        except Exception as error:
            if not isinstance(error, _expected_failures()):
                raise
            import os
            import sys

            from slipway.adapters.commands import redact, secrets_in

            typer.secho(f"error: {redact(str(error), secrets_in(os.environ))}", fg=typer.colors.RED, err=True)
            sys.exit(1)


app = _Slipway(help="Slipway: data checks, reports, promotion, serving and monitoring.", no_args_is_help=True)


ParamsOption = Annotated[Path, typer.Option("--params", help="params.yaml to read")]


@app.callback()
def _undo_interrupted_adoption(ctx: typer.Context) -> None:
    # Any verb run in a project where `slipway adopt` was killed midway first puts the project back as it was.
    from slipway.adopt.journal import ADOPT, JournalBusy, JournalError, pending, recover

    if ctx.invoked_subcommand == "adopt" or not pending(Path.cwd(), ADOPT):
        return  # adopt does it itself (for --repo); without a journal there is nothing to undo
    try:
        undone = recover(Path.cwd(), ADOPT, wait=0)
    except JournalBusy:
        return  # an adoption is running: it is not ours to undo
    except JournalError as error:
        raise _fail(f"slipway: {error}") from None
    if undone is not None:
        typer.echo(f"slipway: {undone.summary()}", err=True)


def _github_output(**values: str) -> None:
    """Step outputs for GitHub Actions (no-op elsewhere)."""
    import os

    path = os.environ.get("GITHUB_OUTPUT")
    if path:
        with open(path, "a") as handle:
            handle.writelines(f"{key}={value}\n" for key, value in values.items())


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def _github_outputs(values: dict[str, str]) -> None:
    """Step outputs when running inside GitHub Actions (multi-line safe)."""
    import os
    import uuid

    target = os.environ.get("GITHUB_OUTPUT")
    if not target:
        return
    with open(target, "a", encoding="utf-8") as handle:
        for key, value in values.items():
            marker = f"EOF_{uuid.uuid4().hex}"
            handle.write(f"{key}<<{marker}\n{value}\n{marker}\n")
