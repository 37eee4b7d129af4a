"""A background writer: the server hands over what is to be written and goes on answering; one thread writes.

Items wait in a queue bounded by their total weight (rows): when the disk falls behind, the next ``submit`` waits
for room, so memory stays bounded and nothing is dropped. The thread takes everything waiting at once and writes it
in one go (one write and flush per round, however many requests arrived meanwhile). ``flush`` waits until everything
submitted so far is written; ``close`` does too, then stops the thread; both run at interpreter exit as well, so a
clean shutdown loses nothing. A failed write is logged (with how many items it lost) and the thread carries on.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

from slipway.serving.echo import echo

log = logging.getLogger(__name__)

T = TypeVar("T")


class BackgroundWriter(Generic[T]):
    """Calls ``write(items)`` in its own thread for the items handed to ``submit`` (see the module docstring)."""

    def __init__(self, write: Callable[[list[T]], None], name: str, max_pending: int) -> None:
        self._write = write
        self._name = name
        self._max_pending = max_pending
        self._lock = threading.Condition()
        self._queue: deque[tuple[T, int]] = deque()
        self._pending = 0  # total weight waiting or being written
        self._submitted = self._done = 0
        self._thread: threading.Thread | None = None
        self._stopping = False

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
            self._lock.notify_all()

    def flush(self) -> None:
        """Wait until everything submitted so far is written."""
        with self._lock:
            target = self._submitted
            while self._done < target and self._thread is not None:
                self._lock.wait()

    def close(self) -> None:
        """Write everything submitted, then stop the thread (a later ``submit`` starts a new one)."""
        with self._lock:
            thread, self._stopping = self._thread, True
            self._lock.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join()
            atexit.unregister(self.close)

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._stopping:
                    self._lock.wait()
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
