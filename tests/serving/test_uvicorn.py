"""The API served by `slipway serve` (uvicorn, one worker) on loopback, checked by `slipway smoke` over real HTTP."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import pytest
from support import REPO_ROOT, VENV_BIN, free_port, run, start_server, stop_server
from support.demo import VALID

from slipway.serving.prediction_log import read_prediction_log

pytestmark = pytest.mark.slow


def test_served_model_passes_the_smoke_test_and_logs_predictions(model_dir: Path, tmp_path: Path) -> None:
    port = free_port()
    server = start_server(model_dir, port, SLIPWAY_PREDICTION_LOG=str(tmp_path / "log"))
    try:
        url = f"http://127.0.0.1:{port}"
        smoke = run(
            [str(VENV_BIN / "slipway"), "smoke", "--url", url, "--wait", "120", "--expect-version", "v1.2.0"],
            REPO_ROOT,
            check=False,
        )
        assert smoke.returncode == 0, smoke.stdout + smoke.stderr
        assert "ok    predict: binary: label" in smoke.stdout and "smoke test passed" in smoke.stdout
        request = urllib.request.Request(
            f"{url}/predict", json.dumps({"records": [VALID, VALID]}).encode(), {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = json.loads(response.read())
        wrong = run(
            [str(VENV_BIN / "slipway"), "smoke", "--url", url, "--wait", "5", "--expect-version", "v9.9.9"],
            REPO_ROOT,
            check=False,
        )
        assert wrong.returncode == 1 and "serves 'v1.2.0', expected 'v9.9.9'" in wrong.stdout
    finally:
        output = stop_server(server)
    assert "Uvicorn running on http://127.0.0.1" in output, output
    logged = read_prediction_log(tmp_path / "log")
    assert answer["request_id"] in set(logged["request_id"])
    assert (logged[logged["request_id"] == answer["request_id"]]["record"] == [0, 1]).all()


def test_smoke_fails_with_a_reason_when_the_model_is_broken(tmp_path: Path) -> None:
    broken = tmp_path / "model"
    broken.mkdir()
    (broken / "model.skops").write_bytes(b"not a model")
    port = free_port()
    server = start_server(broken, port)
    try:
        smoke = run(
            [str(VENV_BIN / "slipway"), "smoke", "--url", f"http://127.0.0.1:{port}", "--wait", "120"],
            REPO_ROOT,
            check=False,
        )
    finally:
        stop_server(server)
    assert smoke.returncode == 1, smoke.stdout
    assert "ok    health: up" in smoke.stdout
    assert "FAIL  ready: status 503" in smoke.stdout and "smoke test FAILED" in smoke.stdout


def test_smoke_fails_when_nothing_answers() -> None:
    started = time.monotonic()
    smoke = run(
        [str(VENV_BIN / "slipway"), "smoke", "--url", f"http://127.0.0.1:{free_port()}", "--wait", "1"],
        REPO_ROOT,
        check=False,
    )
    assert smoke.returncode == 1 and "FAIL  health: /health did not answer 200 within 1 s" in smoke.stdout
    assert time.monotonic() - started < 60
