"""Signals during a change that must land whole: a handled signal becomes an exception (so undo code runs),
undo and commit cannot be cut short by one, and the children a change starts die with it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


class Interrupted(BaseException):
    """A handled signal arrived while :func:`signals_raise` was active."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.name = signal.Signals(signum).name
        super().__init__(self.name)


_shield = threading.local()


def _raise_interrupted(signum: int, _frame: object) -> None:
    if getattr(_shield, "depth", 0):
        return  # an undo or a commit is running: let it finish, the caller is on its way out already
    raise Interrupted(signum)


@contextlib.contextmanager
def signals_raise() -> Iterator[None]:
    """While the block runs, SIGTERM, SIGHUP and SIGINT raise :class:`Interrupted` (so ``except BaseException``
    undo code runs) instead of ending the process on the spot. Only the main thread can handle signals: elsewhere
    this does nothing."""
    depth = getattr(_shield, "depth", 0)
    if threading.current_thread() is not threading.main_thread():
        try:
            yield
        finally:
            _shield.depth = depth
        return
    previous = {number: signal.signal(number, _raise_interrupted) for number in HANDLED_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        _shield.depth = depth


@contextlib.contextmanager
def shielded() -> Iterator[None]:
    """Handled signals that arrive during the block are ignored (undo and commit must not be cut short)."""
    _shield.depth = getattr(_shield, "depth", 0) + 1
    try:
        yield
    finally:
        _shield.depth -= 1


def settle() -> None:
    """The outcome is decided (committed, or undoing): until the :func:`signals_raise` block ends, handled signals
    are ignored, so that none can report a completed change as stopped."""
    _shield.depth = getattr(_shield, "depth", 0) + 1


def _die_with_parent() -> Callable[[], None] | None:
    """On Linux, a ``preexec_fn`` that makes the child get SIGKILL when this process dies (even by SIGKILL)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = __import__("ctypes").CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent, kill = os.getpid(), int(signal.SIGKILL)

    def preexec() -> None:
        prctl(1, kill)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent died before the request took effect
            os._exit(1)

    return preexec


def child_options() -> dict[str, Any]:
    """``subprocess.Popen`` keyword arguments for a child that works on the journaled tree: it inherits the lock (the
    only inheritable descriptor), so :func:`recover` waits for it even if this process is killed, and on Linux it
    is killed with this process."""
    return {"close_fds": False, "preexec_fn": _die_with_parent()}


def stop_child(process: subprocess.Popen[Any], grace: float = 10.0) -> None:
    """End a child started with :func:`child_options` (SIGTERM, then SIGKILL after ``grace`` seconds) and reap it."""
    with shielded():
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(grace)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
