"""Waiting for something another thread does, without a fixed sleep."""

from __future__ import annotations

import time
from collections.abc import Callable


def became_true(condition: Callable[[], bool], seconds: float) -> bool:
    """Whether ``condition`` became true within ``seconds`` (checked every 5 ms)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True
