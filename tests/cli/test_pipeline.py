"""`slipway repro` runs DVC in its own process (its entry point, not a `dvc` found on PATH) without building the
typer app (`--help` aside), passes DVC's output and exit code through, gives DVC and its stages no input (a question
is answered no, even on a terminal), and ends without the interpreter's teardown (slow: processes)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from support import REPO_ROOT, VENV_BIN, project_env, run
from support.clones import dvc_project

pytestmark = pytest.mark.slow

PIPELINE = """\
stages:
  write:
    cmd: python -c "open('out.txt', 'w').write('written')"
    outs:
      - out.txt
  broken:
    cmd: python -c "raise SystemExit(3)"
  reads:
    cmd: python -c "import sys; open('read.txt', 'w').write(repr(sys.stdin.read()))"
    outs:
      - read.txt
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A DVC project of three stages, and a `dvc` first on PATH that leaves a mark and fails if anything runs it."""
    root = dvc_project(tmp_path / "project", PIPELINE, scm=False)
    decoy = tmp_path / "decoy"
    decoy.mkdir()
    (decoy / "dvc").write_text(f"#!/bin/sh\ntouch {tmp_path / 'decoy-ran'}\nexit 97\n")
    (decoy / "dvc").chmod(0o755)
    return root


TEARDOWN_SHOWN = """\
import sys
from slipway.cli.main import main

class Teardown:
    def __del__(self):
        print("torn down", flush=True)

kept = Teardown()
sys.argv = ["slipway", *sys.argv[1:]]
main()
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


def test_repro_runs_dvc_without_building_the_app(project: Path) -> None:
    command = [str(VENV_BIN / "python"), "-X", "importtime", "-m", "slipway.cli", "repro", "write"]
    ran = run(command, project, env=project_env(project, PYTHONPATH=str(REPO_ROOT / "src")))
    assert (project / "out.txt").read_text() == "written"
    timed = [line for line in ran.stderr.splitlines() if line.startswith("import time")]
    imported = {line.rsplit("|", 1)[-1].strip() for line in timed}  # (the modules this process imported)
    assert {"dvc.cli", "slipway.pipeline.stage_host"} <= imported
    assert not {"typer", "click", "pydantic", "slipway.cli.app"} & imported
    helped = run([str(VENV_BIN / "slipway"), "repro", "--help"], project, env=project_env(project))
    assert "Usage: slipway repro" in helped.stdout and "stage host" in helped.stdout  # the app's help, not DVC's


def test_on_a_terminal_dvc_and_its_stages_read_no_input_so_nothing_waits_for_a_reader(project: Path) -> None:
    """A CI runner (act) gives the steps a terminal nobody types into: DVC's question (here `--interactive`'s) and
    a stage reading its input must get an empty input at once, not wait on that terminal."""
    env = project_env(project, PYTHONPATH=str(REPO_ROOT / "src"))
    terminal, user_side = os.openpty()

    def on_the_terminal(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(VENV_BIN / "slipway"), "repro", *args],
            cwd=project, env=env, stdin=user_side, stdout=user_side, stderr=subprocess.PIPE, text=True, timeout=120,
        )  # fmt: skip

    try:
        asked = on_the_terminal("--interactive", "reads")
        assert asked.returncode == 255
        assert "reproduction aborted by the user" in asked.stderr  # the question, answered no
        assert not (project / "read.txt").exists()
        ran = on_the_terminal("reads")
        assert ran.returncode == 0, ran.stderr
        assert (project / "read.txt").read_text() == "''"  # the stage read an empty input
    finally:
        os.close(terminal)
        os.close(user_side)
