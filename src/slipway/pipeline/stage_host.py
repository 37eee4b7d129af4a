"""A stage host: one process that imports the pipeline once, then forks a copy of itself for each stage script DVC
runs, so the five stages of a `dvc repro` pay the libraries' imports (pandas, pyarrow, pandera, scikit-learn,
onnxruntime: most of a small table's run time) once instead of five times.

`slipway repro` starts a host around `dvc repro` (:func:`hosting`) and names its socket in ``SLIPWAY_STAGE_HOST``.
A stage script started with that variable set (:func:`run_in_host`, called by ``run_stage`` before it imports
anything heavy) hands its script path, arguments, working directory, environment and its stdin/stdout/stderr to
the host and exits with the stage's exit code; the forked worker runs the script exactly as ``python <script>``
would (``__main__``, same argv, cwd and environment, output on the same descriptors). Without the variable, or if
the host is gone or refuses, the script runs in its own process as always: the host only ever saves time. The
host's own process is :mod:`slipway.pipeline.stage_host_process`; this module is the client side, the protocol and
the command that starts a host.

What keeps it safe: the socket lives in a directory only its owner can enter and the host serves only its own
user (``SO_PEERCRED``), which can run any code anyway; the host imports third-party libraries and the pipeline's
modules and refuses to serve once any of those module files changes (a worker would run the old code; the client
then runs the stage itself); it ends with the command it serves, or when its parent dies. This module imports
nothing heavy at the top: stage scripts import it before anything else.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # (the client side, which every stage script runs first, imports no more than it uses)
    from pathlib import Path

HOST_ENV = "SLIPWAY_STAGE_HOST"
"""The host's socket path, for the stage scripts it serves."""
REQUEST_LENGTH = struct.Struct("!I")
"""A request is this length prefix (sent with the client's standard streams), then that many bytes of JSON."""
STREAMS = 3
"""The client's stdin, stdout and stderr, passed to the host as descriptors."""
_HOST_END_SECONDS = 30.0


# ---------------------------------------------------------------- the client side: a stage script


def run_in_host(argv: list[str] | None = None) -> int | None:
    """Run this script (``sys.argv``) in the stage host named by ``SLIPWAY_STAGE_HOST`` and return its exit code;
    None when there is no host to run it (no variable, host gone, or it refused): the caller runs it itself."""
    path = os.environ.get(HOST_ENV)
    if not path:
        return None
    args = sys.argv if argv is None else argv
    request = {
        "script": os.path.abspath(args[0]),
        "argv": args[1:],
        "cwd": os.getcwd(),
        "env": {name: value for name, value in os.environ.items() if name != HOST_ENV},
    }
    try:
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.connect(path)
    except OSError:
        return None
    with connection:
        return _hand_over(connection, request)


def _hand_over(connection: socket.socket, request: dict[str, Any]) -> int | None:
    """Send the request; None if the host does not take it (the caller runs the stage), else the stage's code."""
    payload = json.dumps(request).encode()
    replies = connection.makefile("r", encoding="utf-8")
    try:
        socket.send_fds(connection, [REQUEST_LENGTH.pack(len(payload))], list(range(STREAMS)))
        connection.sendall(payload)
        first = _reply(replies)
    except ConnectionError:  # the host ended before taking the request
        return None
    if first is None or "refused" in first:
        return None
    worker = int(first["pid"])  # from here on the stage is the worker's: never run it a second time
    forwarded = {number: signal.signal(number, lambda sig, _frame: _forward(worker, sig)) for number in _FORWARDED}
    try:
        last = _reply(replies)
    except ConnectionError:
        last = None
    finally:
        for number, handler in forwarded.items():
            signal.signal(number, handler)
    if last is None:
        print(f"stage host: the worker running {request['script']} died without an exit code", file=sys.stderr)
        return 1
    return int(last["exit"])


_FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _forward(worker: int, number: int) -> None:
    with suppress(ProcessLookupError):
        os.kill(worker, number)


def _reply(replies: Any) -> dict[str, Any] | None:
    line = replies.readline()
    return json.loads(line) if line else None


# ---------------------------------------------------------------- the protocol, both sides


def receive_exactly(connection: socket.socket, size: int) -> bytes:
    """``size`` bytes from ``connection``; ConnectionError if it closes before."""
    chunks: list[bytes] = []
    while size:
        chunk = connection.recv(min(size, 1 << 16))
        if not chunk:
            raise ConnectionError("the client closed the connection mid-request")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def message_line(message: dict[str, Any]) -> bytes:
    """A reply from the host or a worker: one JSON object on one line."""
    return (json.dumps(message) + "\n").encode()


# ---------------------------------------------------------------- running a command with a host


def stage_modules(root: Path) -> tuple[str, ...]:
    """The modules of the stage functions a repository's pipeline runs, in dvc.yaml's order: each stage's command
    names its script (``python pipelines/train.py``), which calls ``run_stage("module:function")``."""
    import shlex

    import yaml

    try:
        stages = yaml.safe_load((root / "dvc.yaml").read_text()).get("stages") or {}
    except (OSError, yaml.YAMLError, AttributeError):
        return ()
    modules: dict[str, None] = {}
    for stage in stages.values():
        command = stage.get("cmd") or (stage.get("do") or {}).get("cmd") or ""
        for word in shlex.split(" ".join(command) if isinstance(command, list) else command):
            script = root / word
            if word.endswith(".py") and script.is_file():
                modules.update(dict.fromkeys(script_stage_modules(script)))
    return tuple(modules)


def script_stage_modules(script: Path) -> list[str]:
    """The modules whose stage functions a stage script runs by name (``run_stage("module:function")``)."""
    import ast

    def target(node: ast.AST) -> str | None:
        """``"module:function"`` if ``node`` is a call ``run_stage("module:function", ...)``."""
        if not isinstance(node, ast.Call) or getattr(node.func, "id", getattr(node.func, "attr", None)) != "run_stage":
            return None
        first = node.args[0] if node.args else None
        return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None

    tree = ast.parse(script.read_bytes())
    return [name.partition(":")[0] for node in ast.walk(tree) if (name := target(node))]


@contextmanager
def hosting(preload: tuple[str, ...]) -> Iterator[dict[str, str]]:
    """Start a stage host that imports the stage modules ``preload`` (in pipeline order) and their libraries for
    the duration of the block, and yield the environment variable that points stage scripts at it (nothing off
    Linux: the stages then run as usual). The socket listens before the host starts importing: a stage that
    connects early waits, and is served as soon as the host is between two imports of its own libraries, or has
    imported them (:func:`slipway.pipeline.stage_host_process.serve`)."""
    if not sys.platform.startswith("linux"):  # forking a process that loaded these libraries is Linux's to do
        yield {}
        return
    import subprocess
    import tempfile

    from slipway.adapters.commands import child_env

    with (
        tempfile.TemporaryDirectory(prefix="slipway-stage-host-") as private,  # mode 0700: only its owner enters
        socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener,
    ):
        path = os.path.join(private, "socket")
        listener.bind(path)
        listener.listen(16)
        host = subprocess.Popen(
            [sys.executable, "-m", "slipway.pipeline.stage_host_process", str(listener.fileno()), *preload],
            env=child_env(),
            stdin=subprocess.DEVNULL,
            pass_fds=(listener.fileno(),),
        )
        listener.close()  # the host holds it now: if the host ends, a stage's connect is refused, never left waiting
        try:
            yield {HOST_ENV: path}
        finally:
            host.terminate()  # it waits for its workers, which have ended with the command
            try:
                host.wait(timeout=_HOST_END_SECONDS)
            except subprocess.TimeoutExpired:
                host.kill()
                host.wait()
