"""The serving benchmark's client against its fixed-answer servers (the client's own ceiling, uvicorn's floor), the
parsing of both servers' answers, and which act steps count as a job's own work."""

from __future__ import annotations

import subprocess
import sys

import pytest
import serving
from pr_workflow import own_work
from support import free_port


@pytest.mark.parametrize("script", [serving.TRIVIAL_SERVER, serving.SERVER_FLOOR], ids=["trivial", "uvicorn floor"])
def test_the_keep_alive_client_runs_against_the_fixed_answer_servers(script: str) -> None:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", script, str(port)], start_new_session=True)
    try:
        serving.wait_ready(process, port, "/", "fixed-answer server", timeout=60)
        latencies = serving.closed_loop((port, "/predict", 50, b'{"x": 1}'))
        _, answer = serving.post(serving.Server("floor", process, port, "/predict", b"", b'{"records": []}'), b"{}")
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert len(latencies) == 50 and all(x > 0 for x in latencies)
    assert answer == {"predictions": [[0.5, 0.5]]}


def test_a_server_that_dies_is_reported_not_waited_for() -> None:
    process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"], start_new_session=True)
    with pytest.raises(RuntimeError, match="exited with 3 before becoming ready"):
        serving.wait_ready(process, free_port(), "/", "a server", timeout=60)


def test_both_answer_formats_give_the_positive_class_probability() -> None:
    slipway = {"predictions": [{"label": 1, "probability": 0.7}, {"label": 0, "probability": 0.2}]}
    mlflow = {"predictions": [[0.3, 0.7], [0.8, 0.2]]}
    assert serving.probabilities("slipway-onnx", slipway) == serving.probabilities("mlflow", mlflow) == [0.7, 0.2]


@pytest.mark.parametrize(
    ("step", "own"),
    [
        ("3 make data repro", True),
        ('3 make test-fast ${PR_PYTEST_ARGS:+PYTEST_ARGS="$PR_PYTEST_ARGS"}', True),
        ("8 Quality gate (fails the check when the model got worse)", True),
        ("1 ./.github/actions/setup", False),
        ("0 actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1", False),
        ("4 actions/upload-artifact@bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", False),
    ],
)
def test_own_work_is_the_make_steps_not_the_setup(step: str, own: bool) -> None:
    assert own_work(step) is own


def test_without_uv_the_mlflow_anchor_says_why_it_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(serving.shutil, "which", lambda name: None)
    monkeypatch.setitem(sys.modules, "uv", None)  # import uv -> ImportError
    with pytest.raises(RuntimeError, match=r"uv not found \(python3 -m pip install uv\)"):
        serving.uv_command()
