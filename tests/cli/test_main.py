"""The `slipway` command: a verb whose command line is DVC's (`slipway repro`) runs without building the typer app
(neither typer nor pydantic is imported), with the app's error style and its own `--help` from the app; a verb
that ends the process at once still runs the exit handlers and flushes its output first."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from support import VENV_BIN, project_env, run

from slipway.cli import main as command
from slipway.config import ConfigError

PIPELINE = """\
stages:
  write:
    cmd: python -c "open('out.txt', 'w').write('written')"
    outs:
      - out.txt
"""


@pytest.mark.slow
def test_repro_runs_dvc_without_building_the_app(tmp_path: Path) -> None:
    run([str(VENV_BIN / "dvc"), "init", "--no-scm", "-q"], tmp_path)
    (tmp_path / "dvc.yaml").write_text(PIPELINE)
    command_line = [str(VENV_BIN / "python"), "-X", "importtime", "-m", "slipway.cli", "repro"]
    result = run(command_line, tmp_path, env=project_env(tmp_path, PYTHONPATH=""))
    assert (tmp_path / "out.txt").read_text() == "written"
    timed = [line for line in result.stderr.splitlines() if line.startswith("import time")]
    imported = {line.rsplit("|", 1)[-1].strip() for line in timed}
    assert {"dvc.cli", "slipway.pipeline.stage_host"} <= imported  # (the modules this process imported)
    assert not {"typer", "click", "pydantic", "slipway.cli.app"} & imported
    helped = run([str(VENV_BIN / "slipway"), "repro", "--help"], tmp_path, env=project_env(tmp_path, PYTHONPATH=""))
    assert "Usage: slipway repro" in helped.stdout and "stage host" in helped.stdout  # the app's help, not DVC's


def _handed_over(monkeypatch: pytest.MonkeyPatch, failure: Exception) -> list[list[str]]:
    """`slipway repro --dry` whose run raises ``failure``; returns the arguments the run was given."""
    given: list[list[str]] = []

    def failing(args: list[str]) -> int:
        given.append(list(args))
        raise failure

    monkeypatch.setattr(command, "_handed_over", lambda verb: failing if verb == "repro" else None)
    monkeypatch.setattr(sys, "argv", ["slipway", "repro", "--dry"])
    return given


def test_an_expected_failure_of_a_verb_run_without_the_app_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    given = _handed_over(monkeypatch, ConfigError("params.yaml: split.test_size must be below 1"))
    with pytest.raises(SystemExit) as stopped:
        command.main()
    assert stopped.value.code == 1 and given == [["--dry"]]
    assert capsys.readouterr().err == "repro: params.yaml: split.test_size must be below 1\n"
    _handed_over(monkeypatch, RuntimeError("a bug"))
    with pytest.raises(RuntimeError, match="a bug"):  # a bug keeps its traceback
        command.main()


EXIT = """\
import atexit, sys, threading, time
from slipway.cli.main import exit_at_once

class Teardown:
    def __del__(self):
        print("torn down", flush=True)

kept = Teardown()
atexit.register(print, "exit handler ran")
if sys.argv[1] == "thread":
    threading.Thread(target=lambda: (time.sleep(0.2), print("thread finished", flush=True))).start()
print("buffered", end=" ")
exit_at_once(3)
"""


@pytest.mark.slow
def test_exit_at_once_runs_the_exit_handlers_flushes_and_skips_the_teardown_unless_a_thread_still_runs() -> None:
    def exiting(mode: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", EXIT, mode], capture_output=True, text=True, timeout=60)

    at_once = exiting("alone")
    assert (at_once.returncode, at_once.stdout) == (3, "buffered exit handler ran\n")  # no "torn down"
    waited = exiting("thread")  # the normal exit waits for the thread, then tears down
    assert waited.returncode == 3
    assert waited.stdout.splitlines() == ["buffered thread finished", "exit handler ran", "torn down"]
