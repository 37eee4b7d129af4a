"""The server `make simulate` starts: ready, or the reason it cannot be, as soon as the server gives it; never a
minute of polling a server that already failed to load its model."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import REPO_ROOT

from slipway.adapters.http import NotReady
from slipway.monitoring.simulate import serving

pytestmark = pytest.mark.slow  # starts processes or servers


def test_a_server_that_cannot_load_its_model_is_reported_with_the_reason(tmp_path: Path) -> None:
    with pytest.raises(NotReady) as caught, serving(REPO_ROOT, tmp_path / "logs", model_dir=tmp_path):
        pass
    # the reason comes from the server's first 503 (waiting out the timeout would say "did not answer 200")
    assert "/ready: model not loaded: " in str(caught.value) and "did not answer" not in str(caught.value)
    assert "server log (tail)" in str(caught.value)
