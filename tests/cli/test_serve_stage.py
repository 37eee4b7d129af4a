"""`slipway serve-stage` replaces itself with the server: the server process holds no secret of the environment
it was started from (CI tokens, registry passwords, kubeconfigs)."""

from __future__ import annotations

import secrets
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from support import REPO_ROOT, VENV_BIN, free_port, project_env, run

pytestmark = pytest.mark.slow  # starts processes or servers

TOKEN = "ghs_" + secrets.token_hex(20)
PASSWORD = secrets.token_hex(16)


def _exec_done(pid: int) -> bool:
    """Whether the process runs the server now (``serve --model-dir``), not the verb that starts it."""
    return b"serve\0--model-dir" in (Path("/proc") / str(pid) / "cmdline").read_bytes()


def test_the_served_process_gets_no_secret_variable(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    raw = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    raw["deploy"]["stages"]["prod"]["port"] = free_port()
    (repo / "params.yaml").write_text(yaml.safe_dump(raw))
    (repo / "dvc.yaml").write_text("artifacts:\n  model:\n    path: outputs/model/model.skops\n    type: model\n")
    run(["git", "init", "-q", "-b", "main"], repo, env=project_env(repo))
    env = project_env(repo, GITHUB_TOKEN=TOKEN, REGISTRY_TOKEN=TOKEN, DB_PASSWORD=PASSWORD, SLIPWAY_NOTE="kept")
    verb = subprocess.Popen(
        [str(VENV_BIN / "slipway"), "serve-stage", "prod"], cwd=repo, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not _exec_done(verb.pid):
            assert verb.poll() is None and time.monotonic() < deadline, "serve-stage did not start the server"
            time.sleep(0.1)
        served_env = (Path("/proc") / str(verb.pid) / "environ").read_bytes().split(b"\0")
    finally:
        verb.terminate()
        verb.wait(timeout=30)
    assert b"SLIPWAY_NOTE=kept" in served_env  # the rest of the environment is passed on
    assert not [item for item in served_env if TOKEN.encode() in item or PASSWORD.encode() in item]
