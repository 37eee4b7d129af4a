"""The server `make simulate` starts: ready or a clear reason, fast, never a minute of polling a server that
already failed to load its model."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from support import REPO_ROOT

from slipway.adapters.http import NotReady
from slipway.monitoring.simulate import READY_SECONDS, serving


def test_a_server_that_cannot_load_its_model_is_reported_at_once(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(NotReady, match="model not loaded") as caught, serving(REPO_ROOT, tmp_path / "logs", tmp_path):
        pass
    assert time.monotonic() - started < READY_SECONDS / 2
    assert "server log (tail)" in str(caught.value)
