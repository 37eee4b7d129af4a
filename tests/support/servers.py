"""`slipway serve` in the background on loopback: a free port, start, wait until ready, stop."""

from __future__ import annotations

import http.client
import socket
import subprocess
import time
from pathlib import Path

from support.commands import REPO_ROOT, VENV_BIN, project_env


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(
    model_dir: Path,
    port: int,
    cwd: Path = REPO_ROOT,
    *,
    args: tuple[str, ...] = (),
    log_file: Path | None = None,
    **env: str,
) -> subprocess.Popen[bytes]:
    """``slipway serve`` on 127.0.0.1:``port`` for ``model_dir`` with extra ``args``, in the background (stop it
    with stop_server). Its output goes to ``log_file`` (readable while it runs), else stop_server returns it."""
    command = [str(VENV_BIN / "slipway"), "serve", "--model-dir", str(model_dir), "--port", str(port), *args]
    if log_file is None:
        return subprocess.Popen(
            command, cwd=cwd, env=project_env(cwd, **env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
    with log_file.open("wb") as sink:
        return subprocess.Popen(command, cwd=cwd, env=project_env(cwd, **env), stdout=sink, stderr=sink)


def stop_server(process: subprocess.Popen[bytes]) -> str:
    """Stop a server started with start_server; its output (empty when it went to a log file)."""
    process.terminate()
    output, _ = process.communicate(timeout=30)
    return (output or b"").decode(errors="replace")


def wait_ready(port: int, seconds: float = 120) -> None:
    """Wait until the server on ``port`` answers /ready with 200."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/ready")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"no server ready on port {port}")
