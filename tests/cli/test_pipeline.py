"""`slipway repro` runs DVC in its own process (its entry point, not a `dvc` found on PATH), passes DVC's output
and exit code through, and ends without the interpreter's teardown (slow: processes)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from support import REPO_ROOT, VENV_BIN, project_env, run

pytestmark = pytest.mark.slow

PIPELINE = """\
stages:
  write:
    cmd: python -c "open('out.txt', 'w').write('written')"
    outs:
      - out.txt
  broken:
    cmd: python -c "raise SystemExit(3)"
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A DVC project of two stages, and a `dvc` first on PATH that leaves a mark and fails if anything runs it."""
    root = tmp_path / "project"
    root.mkdir()
    run([str(VENV_BIN / "dvc"), "init", "--no-scm", "-q"], root)
    (root / "dvc.yaml").write_text(PIPELINE)
    decoy = tmp_path / "decoy"
    decoy.mkdir()
    (decoy / "dvc").write_text(f"#!/bin/sh\ntouch {tmp_path / 'decoy-ran'}\nexit 97\n")
    (decoy / "dvc").chmod(0o755)
    return root


TEARDOWN_SHOWN = """\
import sys
from slipway.cli import app

class Teardown:
    def __del__(self):
        print("torn down", flush=True)

kept = Teardown()
sys.argv = ["slipway", *sys.argv[1:]]
app()
"""


def _slipway(project: Path, *args: str, teardown_shown: bool = False) -> subprocess.CompletedProcess[str]:
    """`slipway repro <args>`; with ``teardown_shown``, in a process where an object prints "torn down" if the
    interpreter's teardown collects it."""
    env = project_env(project, PYTHONPATH=str(REPO_ROOT / "src"))
    env["PATH"] = f"{project.parent / 'decoy'}:{env['PATH']}"
    command = [str(VENV_BIN / "python"), "-c", TEARDOWN_SHOWN] if teardown_shown else [str(VENV_BIN / "slipway")]
    return run([*command, "repro", *args], project, check=False, env=env)


def test_repro_runs_dvc_in_its_own_process_and_passes_its_output_and_exit_code_through(project: Path) -> None:
    ran = _slipway(project, "write", teardown_shown=True)
    assert ran.returncode == 0, ran.stderr
    assert "Running stage 'write'" in ran.stdout  # printed, and flushed before the process ended
    assert "torn down" not in ran.stdout  # it ended without the interpreter's teardown
    assert (project / "out.txt").read_text() == "written"
    assert (project / "dvc.lock").is_file()
    assert "didn't change, skipping" in _slipway(project, "write").stdout

    failed = _slipway(project, "broken")
    assert failed.returncode == 255  # DVC's code for a failed stage, as `dvc repro` exits
    assert "failed to reproduce 'broken'" in failed.stderr
    assert _slipway(project, "--no-such-option").returncode == 254  # DVC's usage error
    assert not (project.parent / "decoy-ran").exists()
