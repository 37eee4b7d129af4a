"""The `slipway` command: a verb whose command line is DVC's (`slipway repro`, run without building the typer app:
tests/cli/test_pipeline.py) fails in the app's error style; a verb that ends the process at once still runs the
exit handlers and flushes its output first."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from slipway.cli import main as command
from slipway.config import ConfigError


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
