"""A background writer: the server hands over what is to be written and goes on answering; one thread writes.

Items wait in a queue bounded by their total weight (rows): when the disk falls behind, the next ``submit`` waits
for room, so memory stays bounded and nothing is dropped. The thread takes everything waiting at once and writes it
in one go (one write and flush per round, however many requests arrived meanwhile). A round starts ``linger``
seconds after its first item arrives (at once when half the room is taken, or when someone flushes or closes):
woken for every request, the thread would take the GIL, the CPU and a write from the server two thousand times a
second (a sixth of a single-record server's throughput); lingering, it writes a few times a second. A hard kill
loses at most the last ``linger`` seconds of items.

``flush`` waits until everything submitted so far is written; ``close`` does too, then stops the thread; both run
at interpreter exit as well, so a clean shutdown loses nothing. A failed write is logged (with how many items it
lost) and the thread carries on.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

from slipway.serving.echo import echo

log = logging.getLogger(__name__)

T = TypeVar("T")
LINGER_SECONDS = 0.05
"""How long a round waits after its first item for more to arrive (the most a line waits to be written)."""


class BackgroundWriter(Generic[T]):
    """Calls ``write(items)`` in its own thread for the items handed to ``submit`` (see the module docstring)."""

    def __init__(
        self, write: Callable[[list[T]], None], name: str, max_pending: int, linger: float = LINGER_SECONDS
    ) -> None:
        self._write = write
        self._name = name
        self._max_pending = max_pending
        self._linger = linger
        self._lock = threading.Condition()
        self._queue: deque[tuple[T, int]] = deque()
        self._pending = 0  # total weight waiting or being written
        self._submitted = self._done = 0
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._idle = False  # the thread waits for a first item
        self._flushing = 0  # callers waiting in flush

    def submit(self, item: T, weight: int = 1) -> None:
        """Queue ``item`` (waiting for room while more than ``max_pending`` weight is waiting)."""
        with self._lock:
            while self._pending >= self._max_pending and self._thread is not None:
                self._lock.wait()
            self._queue.append((item, weight))
            self._pending += weight
            self._submitted += 1
            if self._thread is None:
                self._stopping = False
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
                atexit.register(self.close)
            if self._idle or self._hurried():  # else the thread is lingering, or writing: it takes this one next
                self._lock.notify_all()

    def flush(self) -> None:
        """Wait until everything submitted so far is written."""
        with self._lock:
            target = self._submitted
            self._flushing += 1
            self._lock.notify_all()
            try:
                while self._done < target and self._thread is not None:
                    self._lock.wait()
            finally:
                self._flushing -= 1

    def close(self) -> None:
        """Write everything submitted, then stop the thread (a later ``submit`` starts a new one)."""
        with self._lock:
            thread, self._stopping = self._thread, True
            self._lock.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join()
            atexit.unregister(self.close)

    def _hurried(self) -> bool:
        """(Under the lock.) Whether the next round should start now rather than linger."""
        return self._stopping or self._flushing > 0 or 2 * self._pending >= self._max_pending

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._stopping:
                    self._idle = True
                    self._lock.wait()
                self._idle = False
                lingering_until = time.monotonic() + self._linger
                while not self._hurried() and (left := lingering_until - time.monotonic()) > 0:
                    self._lock.wait(left)
                batch = list(self._queue)
                self._queue.clear()
                if not batch:  # stopping, and nothing left
                    self._thread = None
                    self._lock.notify_all()
                    return
            try:
                self._write([item for item, _ in batch])
            except Exception as error:  # a full disk, a removed folder: say so, keep serving
                problem = echo(f"{type(error).__name__}: {error}")
                log.error("%s: could not write %d item(s): %s", self._name, len(batch), problem)
            with self._lock:
                self._pending -= sum(weight for _, weight in batch)
                self._done += len(batch)
                self._lock.notify_all()
