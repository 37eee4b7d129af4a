"""The local target: a `slipway serve` process per stage on this machine."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from slipway.adapters.commands import child_env
from slipway.adapters.http import NotReady, wait_ready
from slipway.config import DeployConfig
from slipway.release.targets.base import DeployError, Deployment


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        if (Path("/proc") / str(pid) / "stat").read_text().split(") ", 1)[1].startswith("Z"):
            return False
    return True


class LocalTarget:
    """A ``slipway serve`` process per stage on this machine (``make serve`` runs the prod one in the foreground)."""

    name = "local"

    def __init__(self, config: DeployConfig, directory: Path) -> None:
        self.config = config
        self.directory = directory

    def _state_dir(self, stage: str) -> Path:
        return self.directory / stage

    def url(self, stage: str) -> str:
        return f"http://{self.config.host}:{self.config.stages[stage].port}"

    def _state(self, stage: str) -> dict[str, object]:
        path = self._state_dir(stage) / "state.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def current(self, stage: str) -> str | None:
        state = self._state(stage)
        pid = state.get("pid")
        if isinstance(pid, int) and _process_alive(pid):
            return str(state.get("version"))
        return None

    def stop(self, stage: str) -> None:
        pid = self._state(stage).get("pid")
        if isinstance(pid, int) and _process_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while _process_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if _process_alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
        (self._state_dir(stage) / "state.json").unlink(missing_ok=True)

    def command(self, stage: str, model_dir: Path) -> list[str]:
        return [
            sys.executable, "-m", "slipway.cli", "serve", "--model-dir", str(model_dir),
            "--host", self.config.host, "--port", str(self.config.stages[stage].port),
        ]  # fmt: skip

    def deploy(self, stage: str, version: str, model_dir: Path) -> Deployment:
        self.stop(stage)
        state_dir = self._state_dir(stage)
        state_dir.mkdir(parents=True, exist_ok=True)
        env = child_env({"SLIPWAY_MODEL_VERSION": version, "SLIPWAY_STAGE": stage})  # serving needs no secret
        with (state_dir / "server.log").open("ab") as log:
            process = subprocess.Popen(
                self.command(stage, model_dir.resolve()),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        (state_dir / "state.json").write_text(
            json.dumps({"version": version, "pid": process.pid, "model_dir": str(model_dir.resolve())}) + "\n"
        )
        url = self.url(stage)
        try:
            wait_ready(url, self.config.smoke.timeout_seconds, alive=lambda: process.poll() is None)
        except NotReady as error:
            tail = (state_dir / "server.log").read_text(errors="replace")[-1500:]
            self.stop(stage)
            raise DeployError(f"{error}\n--- server log (tail)\n{tail}") from None
        return Deployment(stage, version, url, f"pid {process.pid}, log {state_dir / 'server.log'}")

    def rollback(self, stage: str, version: str, model_dir: Path) -> Deployment:
        return self.deploy(stage, version, model_dir)
