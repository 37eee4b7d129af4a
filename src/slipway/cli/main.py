"""The `slipway` command (:func:`main`), and what every command does around its verb: it first undoes an adoption
that was interrupted (:func:`undo_interrupted_adoption`), and a verb that ran DVC ends without the interpreter's
teardown (:func:`exit_at_once`).

A verb whose whole command line is another tool's (`slipway repro`: DVC's) runs from here without the typer app
(:mod:`slipway.cli.app`): building it costs a quarter of a second (every verb's command, and pydantic, which typer
imports to parse even `--help`), which `slipway repro`'s stage host would wait for before its first import and a
no-op repro would add to DVC's own. Its `--help` still comes from the app. Only the standard library is imported at
the top of this module."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn


def main() -> None:
    """Run the `slipway` command line in ``sys.argv``."""
    verb, *args = sys.argv[1:] or [""]
    if (run := _handed_over(verb)) is not None and "--help" not in args:
        _run_handed_over(verb, run, args)
    from slipway.cli.app import app

    app()


def _handed_over(verb: str) -> Callable[[Sequence[str]], int] | None:
    """The verbs that hand their whole command line to another tool: nothing in it is for typer to parse."""
    if verb == "repro":
        from slipway.cli.repro import reproduce

        return reproduce
    return None


def _run_handed_over(verb: str, run: Callable[[Sequence[str]], int], args: Sequence[str]) -> NoReturn:
    """Run ``verb`` as the app would (an interrupted adoption undone first, an expected failure shown as one line)."""
    try:
        undo_interrupted_adoption(verb)
        code = run(args)
    except Exception as error:
        from slipway.cli.root import shown_failure

        if (shown := shown_failure(verb, error)) is None:
            raise
        code = shown
    exit_at_once(code)


def undo_interrupted_adoption(verb: str | None) -> None:
    """Before any verb but `adopt` (which does it itself, for ``--repo``), put a project where `slipway adopt` was
    killed midway back as it was, and say so on stderr."""
    from pathlib import Path

    from slipway.adopt.journal import ADOPT, JournalBusy, pending, recover

    if verb == "adopt" or not pending(Path.cwd(), ADOPT):
        return  # without a journal there is nothing to undo
    try:
        undone = recover(Path.cwd(), ADOPT, wait=0)
    except JournalBusy:
        return  # an adoption is running: it is not ours to undo
    if undone is not None:
        print(f"slipway: {undone.summary()}", file=sys.stderr)


def exit_at_once(code: int) -> NoReturn:
    """End the process with ``code`` once its exit handlers have run and its output is flushed, without the
    interpreter's teardown of every module it imported (after DVC, about a thousand: a tenth of a second or more).
    A normal exit instead when the standard streams do not write to the process's own descriptors (a test runner
    captures them) or a thread the teardown would wait for is still running."""
    import atexit
    import os
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
