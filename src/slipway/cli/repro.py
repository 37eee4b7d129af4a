"""`slipway repro`: `dvc repro` with its options, its stages run in one stage host (the libraries are imported
once, not once per stage; the same stages, outputs and dvc.lock as `dvc repro`). Its command line is DVC's:
:func:`slipway.cli.main.main` runs it without the typer app."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def reproduce(args: Sequence[str]) -> int:
    """Run ``dvc repro <args>`` in this process with a stage host around it; return DVC's exit code."""
    from slipway.pipeline.stage_host import hosting, stage_modules

    with hosting(stage_modules(Path.cwd())) as env:
        from slipway.adapters.dvc import run_dvc  # once the host has started: it imports while this one does

        return run_dvc(["repro", *args], env=env)
