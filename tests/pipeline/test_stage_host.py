"""The stage host (`slipway repro`): a script it serves runs in a fork of the host exactly as it would alone (argv,
cwd, environment, streams, exit code); without a host, or with one that is gone or whose modules changed, the
script runs itself; no other user can reach it; a signal to the script reaches the stage (slow: processes). What
the host imports comes from dvc.yaml and the stage scripts."""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import project_env
from support.demo import demo_params_file

from slipway.pipeline.stage_host import HOST_ENV, REQUEST_LENGTH, STREAMS, hosting, stage_modules

slow = pytest.mark.slow

STAGE = """\
import json, os, sys
from slipway.pipeline.stage_host import run_in_host

if (code := run_in_host()) is not None:
    sys.exit(code)
preloaded = "probe" in sys.modules
import probe

if os.environ.get("RAISE"):
    raise ValueError("a stage that breaks")
if os.environ.get("BURN"):
    import time
    while time.process_time() < float(os.environ["BURN"]):
        pass
if os.environ.get("SLEEP"):
    print(os.getpid(), flush=True)
    import time
    time.sleep(60)
print(json.dumps({
    "argv": sys.argv[1:], "cwd": os.getcwd(), "probe_env": os.environ.get("PROBE"), "stdin": sys.stdin.read(),
    "host_var_seen": "SLIPWAY_STAGE_HOST" in os.environ, "preloaded": preloaded, "value": probe.VALUE,
}))
print("said on stderr", file=sys.stderr)
sys.exit(int(os.environ.get("EXIT", "0")))
"""
SERVED = "runs in a fork of the host"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stage script, and a module `probe` on the path that the host preloads."""
    (tmp_path / "stage.py").write_text(STAGE)
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "probe.py").write_text("VALUE = 1\n")
    (tmp_path / "work").mkdir()
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path / "lib"), os.environ.get("PYTHONPATH", "")]))
    return tmp_path


def _stage(
    project: Path, env: dict[str, str], *args: str, stdin: str = "", script: str = "stage.py", **extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(project / script), *args],
        cwd=project / "work",
        env={**project_env(project), "PYTHONPATH": os.environ["PYTHONPATH"], **env, **extra},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


@slow
def test_a_served_script_runs_in_a_fork_of_the_host_as_it_would_alone(project: Path) -> None:
    with hosting(preload=("probe",)) as env:
        served = _stage(project, env, "--flag", "a b", stdin="from stdin", PROBE="yes", EXIT="3")
    alone = _stage(project, {}, "--flag", "a b", stdin="from stdin", PROBE="yes", EXIT="3")
    assert SERVED in served.stderr and SERVED not in alone.stderr
    said, said_alone = json.loads(served.stdout), json.loads(alone.stdout)
    assert said.pop("preloaded") is True and said_alone.pop("preloaded") is False
    assert said == said_alone == {
        "argv": ["--flag", "a b"], "cwd": str(project / "work"), "probe_env": "yes", "stdin": "from stdin",
        "host_var_seen": False, "value": 1,
    }  # fmt: skip
    assert served.returncode == alone.returncode == 3
    assert "said on stderr" in served.stderr


@slow
def test_the_cpu_a_stage_uses_in_the_host_counts_for_the_command_that_ran_it(project: Path) -> None:
    """The host waits for its workers, so whoever waits for the host (`time slipway repro`, the benchmarks) sees
    the stages' CPU time and peak memory, as with a process per stage."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with hosting(preload=("probe",)) as env:
        burnt = _stage(project, env, BURN="0.6")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert SERVED in burnt.stderr and burnt.returncode == 0
    assert after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime >= 0.6


@slow
def test_an_uncaught_exception_is_printed_and_exits_1(project: Path) -> None:
    with hosting(preload=("probe",)) as env:
        served = _stage(project, env, RAISE="1")
    assert served.returncode == 1
    assert SERVED in served.stderr
    assert "ValueError: a stage that breaks" in served.stderr


@slow
def test_with_no_host_reachable_the_script_runs_itself(project: Path, tmp_path: Path) -> None:
    with hosting(preload=("probe",)) as env:
        pass  # the host has ended with its block: its socket is gone
    for gone in (env, {HOST_ENV: str(tmp_path / "no-such-socket")}):
        ran = _stage(project, gone, EXIT="4")
        assert ran.returncode == 4, ran.stderr
        assert SERVED not in ran.stderr
        assert json.loads(ran.stdout)["preloaded"] is False


@slow
def test_the_host_refuses_once_a_module_it_imported_changed(project: Path) -> None:
    """A worker would run the code the host imported: after an edit the script runs itself, with the new code."""
    with hosting(preload=("probe",)) as env:
        before = _stage(project, env)
        (project / "lib" / "probe.py").write_text("VALUE = 2  # edited\n")
        after = _stage(project, env)
    assert SERVED in before.stderr and json.loads(before.stdout)["value"] == 1
    assert SERVED not in after.stderr and json.loads(after.stdout)["value"] == 2
    assert after.returncode == 0


@slow
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become another user")
def test_another_user_cannot_reach_the_host(project: Path) -> None:
    with hosting(preload=("probe",)) as env:
        assert os.stat(Path(env[HOST_ENV]).parent).st_mode & 0o777 == 0o700
        read, write = os.pipe()
        child = os.fork()
        if child == 0:  # as nobody: try to connect to the host's socket
            outcome = "connected"
            try:
                os.setgid(65534)
                os.setuid(65534)
                socket.socket(socket.AF_UNIX).connect(env[HOST_ENV])
            except OSError as error:
                outcome = type(error).__name__
            finally:
                os.write(write, outcome.encode())
                os._exit(0)
        os.close(write)
        os.waitpid(child, 0)
        assert os.read(read, 100).decode() == "PermissionError"
        assert SERVED in _stage(project, env).stderr  # its owner still can


@slow
@pytest.mark.parametrize("payload", [b"{}", b"[1, 2]", b'{"script": 3}', b"not json"])
def test_a_malformed_request_is_dropped_and_the_host_serves_on(project: Path, payload: bytes) -> None:
    with hosting(preload=("probe",)) as env:
        with socket.socket(socket.AF_UNIX) as client:
            client.connect(env[HOST_ENV])
            socket.send_fds(client, [REQUEST_LENGTH.pack(len(payload))], list(range(STREAMS)))
            client.sendall(payload)
            client.settimeout(30)
            assert client.recv(100) == b""  # closed without a worker or a reply
        assert SERVED in _stage(project, env).stderr


@slow
def test_a_signal_to_the_script_reaches_the_stage_it_handed_over(project: Path) -> None:
    with hosting(preload=("probe",)) as env:
        client = subprocess.Popen(
            [sys.executable, str(project / "stage.py")],
            cwd=project / "work",
            env={**project_env(project), "PYTHONPATH": os.environ["PYTHONPATH"], **env, "SLEEP": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert client.stdout is not None
        worker = int(client.stdout.readline())
        assert worker != client.pid
        client.send_signal(signal.SIGTERM)
        _, stderr = client.communicate(timeout=30)
    assert client.returncode == 1
    assert "died without an exit code" in stderr
    deadline = time.monotonic() + 10
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(worker)


def _wait_for(path: Path, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return path.exists()


def _write_stage_script(path: Path, target: str) -> None:
    """A stage script as the pipeline's are: ``run_stage("module:function")``."""
    script = f'if __name__ == "__main__":\n    run_stage("{target}")\n'
    path.write_text(f"from slipway.pipeline.stage_runner import run_stage\n\n{script}")


@slow
def test_the_host_imports_a_stages_libraries_once_the_stage_before_it_is_handed_over(project: Path) -> None:
    """One stage ahead: what stage 2 needs is not imported while stage 1 has not arrived (it would take a core from
    DVC and the running stage, and keep an arriving stage waiting for an import it does not use), and is imported
    as soon as stage 1 is handed to a worker."""
    marks = {name: project / f"{name}-imported" for name in ("first", "second")}
    for name, mark in marks.items():
        (project / "lib" / f"{name}.py").write_text(
            f"from pathlib import Path\nPath({str(mark)!r}).touch()\n\ndef go(config):\n    print('{name} ran')\n"
        )
    _write_stage_script(project / "first_stage.py", "first:go")
    demo_params_file(project / "work")
    with hosting(preload=("first", "second")) as env:
        assert _wait_for(marks["first"])
        time.sleep(0.5)  # were the host to import ahead, `second` would be imported by now
        assert not marks["second"].exists()
        ran = _stage(project, env, script="first_stage.py")
        assert ran.returncode == 0, ran.stderr
        assert SERVED in ran.stderr and "first ran" in ran.stdout
        assert _wait_for(marks["second"])


@slow
def test_a_stage_that_comes_while_an_earlier_stages_libraries_are_imported_waits_for_its_own(project: Path) -> None:
    """DVC skipped the stages before it: the stage is started once the host has imported its libraries, not at once
    with what is loaded so far (it would import them again itself, beside the host)."""
    (project / "lib" / "first.py").write_text("import time\ntime.sleep(1.5)\n")  # a long import
    (project / "lib" / "second.py").write_text(
        "import os\n\nIMPORTED_BY = os.getpid()\n\ndef go(config):\n    print(IMPORTED_BY, os.getpid(), os.getppid())\n"
    )
    _write_stage_script(project / "second_stage.py", "second:go")
    demo_params_file(project / "work")
    with hosting(preload=("first", "second")) as env:
        ran = _stage(project, env, script="second_stage.py")  # comes while the host imports `first`
    assert ran.returncode == 0, ran.stderr
    assert SERVED in ran.stderr
    imported_by, worker, host = (int(word) for word in ran.stdout.split())
    assert imported_by == host != worker  # `second` came with the fork: the host imported it, not the worker


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/status").read_text().find("State:\tZ") < 0


def test_the_host_preloads_the_modules_the_stage_scripts_run_in_pipeline_order(tmp_path: Path) -> None:
    (tmp_path / "dvc.yaml").write_text(
        "stages:\n"
        "  first:\n    cmd: python pipelines/first.py --flag\n"
        "  shell:\n    cmd: echo not a script\n"
        "  second:\n    cmd: [python pipelines/second.py]\n"
        "  again:\n    cmd: python pipelines/first.py --other\n"
    )
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "pipelines" / "first.py").write_text(
        'from slipway.pipeline.stage_runner import run_stage\nrun_stage("team.stages.zeta:zeta")\n'
    )
    (tmp_path / "pipelines" / "second.py").write_text(
        "import slipway.pipeline.stage_runner as runner\n"
        'if __name__ == "__main__":\n    runner.run_stage("team.alpha:fit")\n'
    )
    assert stage_modules(tmp_path) == ("team.stages.zeta", "team.alpha")
    assert stage_modules(tmp_path / "pipelines") == ()  # no dvc.yaml: nothing to preload
