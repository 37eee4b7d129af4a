"""`slipway repro`: `dvc repro` with its options, its stages run in one stage host (the libraries are imported
once, not once per stage; the same stages, outputs and dvc.lock as `dvc repro`). Its command line is DVC's:
:func:`slipway.cli.main.main` runs it without the typer app.

A plain repro at the project's root (no option but ``-q``) whose every input and output is as it was when DVC last
found nothing to do answers that at once, without starting DVC (:mod:`slipway.adapters.dvc_up_to_date`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

UP_TO_DATE = "Data and pipelines are up to date."
"""What DVC says when it has nothing to do."""


def reproduce(args: Sequence[str]) -> int:
    """Run ``dvc repro <args>`` in this process with a stage host around it; return DVC's exit code."""
    from slipway.adapters.dvc_up_to_date import Watch, plain

    root = Path.cwd()
    watch = Watch.start(root) if plain(args) and (root / ".dvc").is_dir() else None
    if watch is not None and watch.nothing_changed:
        if not args:
            print(f"{UP_TO_DATE} (Nothing any stage reads or writes has changed since DVC found them so.)")
        return 0
    from slipway.pipeline.stage_host import hosting, stage_modules

    with hosting(stage_modules(root)) as env:
        from slipway.adapters.dvc import run_dvc  # once the host has started: it imports while this one does

        if watch is not None:
            watch.before_dvc()
        code = run_dvc(["repro", *args], env=env)
    if watch is not None:
        watch.finish(code)
    return code
