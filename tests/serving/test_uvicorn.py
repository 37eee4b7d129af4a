"""The API served by `slipway serve` (uvicorn, one worker) on loopback, checked by `slipway smoke` over real HTTP."""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support import REPO_ROOT, VENV_BIN, free_port, run, start_server, stop_server
from support.demo import VALID

from slipway.monitoring.log_reader import read_prediction_log
from slipway.serving.prediction_log import log_file_name

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


def _post(port: int, body: dict, timeout: float = 10) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/predict", json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def _wait_ready(port: int, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"no server ready on port {port}")


def test_requests_are_answered_while_the_log_disk_stalls_and_shutdown_writes_every_line(model_dir, tmp_path) -> None:
    """The day's log file is a named pipe nobody reads yet: opening it for writing blocks, as a stalled disk would.
    Requests must be answered meanwhile; once it is read, every answered record is there after a clean shutdown."""
    log_dir = tmp_path / "log"
    log_dir.mkdir()
    day_file = log_dir / log_file_name(datetime.now(UTC).date())
    os.mkfifo(day_file)
    port = free_port()
    server = start_server(model_dir, port, SLIPWAY_PREDICTION_LOG=str(log_dir))
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(day_file.read_bytes()))
    try:
        _wait_ready(port)
        answered = [_post(port, VALID) for _ in range(200)]  # each within 10 s, though nothing can be written
        answered.append(_post(port, {"records": [{**VALID, "age": 20 + i % 50} for i in range(2_000)]}))
        maps = Path(f"/proc/{server.pid}/maps").read_text()
        reader.start()
    finally:
        output = stop_server(server)
    reader.join(timeout=60)
    later = [p.read_bytes() for p in log_dir.glob("*.jsonl") if p != day_file]  # a run across midnight (UTC)
    lines = [json.loads(line) for text in [*received, *later] for line in text.splitlines()]
    expected = [(a["request_id"], i) for a in answered for i in range(len(a["predictions"]))]
    assert [(line["request_id"], line["record"]) for line in lines] == expected, output[-3000:]
    assert [line["prediction"] for line in lines] == [p["probability"] for a in answered for p in a["predictions"]]
    assert "/uvloop/" in maps and "/httptools/" in maps  # the server runs on uvloop's event loop and httptools
