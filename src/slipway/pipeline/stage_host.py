"""A stage host: one process that imports the pipeline once, then forks a copy of itself for each stage script DVC
runs, so the five stages of a `dvc repro` pay the libraries' imports (pandas, pyarrow, pandera, scikit-learn,
onnxruntime: most of a small table's run time) once instead of five times.

`slipway repro` starts a host around `dvc repro` (:func:`hosting`) and names its socket in ``SLIPWAY_STAGE_HOST``.
A stage script started with that variable set (:func:`run_in_host`, called by ``run_stage`` before it imports
anything heavy) hands its script path, arguments, working directory, environment and its stdin/stdout/stderr to
the host and exits with the stage's exit code; the forked worker runs the script exactly as ``python <script>``
would (``__main__``, same argv, cwd and environment, output on the same descriptors). Without the variable, or if
the host is gone or refuses, the script runs in its own process as always: the host only ever saves time.

What keeps it safe: the socket lives in a directory only its owner can enter and the host serves only its own
user (``SO_PEERCRED``), which can run any code anyway; the host imports third-party libraries and the pipeline's
modules and refuses to serve once any of those module files changes (a worker would run the old code; the client
then runs the stage itself); it ends with the command it serves, or when its parent dies. This module imports
nothing heavy at the top: stage scripts import it before anything else.
"""

from __future__ import annotations

import ast
import gc
import json
import os
import signal
import socket
import struct
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

HOST_ENV = "SLIPWAY_STAGE_HOST"
"""The host's socket path, for the stage scripts it serves."""
_PROJECT = "slipway"
_LENGTH = struct.Struct("!I")
_STDIO = 3
_PARENT_CHECK_SECONDS = 1.0
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
        socket.send_fds(connection, [_LENGTH.pack(len(payload))], list(range(_STDIO)))
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


# ---------------------------------------------------------------- the host


def serve(listening_fd: int, preload: tuple[str, ...]) -> None:
    """Import ``preload`` (see :func:`_importing`) and fork one worker per connection on the listening socket
    ``listening_fd`` until the parent process dies or a signal ends the host. A stage that connects while the
    host is still importing is served between two imports, with what is loaded so far (it imports the rest
    itself)."""
    parent = os.getppid()
    listener = socket.socket(fileno=listening_fd)
    signal.signal(signal.SIGTERM, _stop)
    loaded: dict[str, tuple[int, int]] = {}
    listener.setblocking(False)
    try:
        for _ in _importing(preload):
            _serve_waiting(listener, loaded)
        listener.settimeout(_PARENT_CHECK_SECONDS)
        while os.getppid() == parent:
            _serve_waiting(listener, loaded)
    except ImportError as error:  # the stages then run in their own processes, and fail there if they must
        print(f"stage host: stopped, {error}", file=sys.stderr)
        sys.exit(1)
    finally:
        _reap(block=True)


def _stop(_signal: int, _frame: object) -> None:
    """End the host: wait for its workers, then leave without the interpreter's teardown of the libraries it
    imported (a tenth of a second at the end of every `slipway repro`, a no-op's included)."""
    _reap(block=True)
    os._exit(0)


def _reap(block: bool = False) -> None:
    """Wait for the workers that ended (with ``block``, for all of them): the host's own resource usage then
    counts theirs, as a process per stage would have counted for the command that ran them."""
    with suppress(ChildProcessError):
        while os.waitpid(-1, 0 if block else os.WNOHANG)[0]:
            pass


def _serve_waiting(listener: socket.socket, loaded: dict[str, tuple[int, int]]) -> None:
    """Fork a worker for each connection waiting (or arriving within the listener's timeout)."""
    while True:
        try:
            connection, _ = listener.accept()
        except (BlockingIOError, TimeoutError):
            _reap()
            return
        loaded.update({file: _stamp(file) for file in _module_files() if file not in loaded})
        gc.freeze()  # what the host imported stays out of the workers' collections: they do not copy its pages
        if os.fork() == 0:
            code = 1
            try:  # a worker never returns into the host's loop
                listener.close()
                connection.settimeout(None)
                code = _work(connection, loaded)
            finally:
                os._exit(code)
        connection.close()


def _importing(preload: tuple[str, ...]) -> Iterator[str]:
    """Import ``preload`` and, until nothing new comes, every module that this project's loaded modules import,
    wherever the import sits (stages import their libraries inside the functions that use them); yield each name
    once imported."""
    import importlib

    for name in preload:
        importlib.import_module(name)
        yield name
    seen: set[str] = set()
    while fresh := [name for name in _project_modules() if name not in seen]:
        seen.update(fresh)
        for imported in sorted(set().union(*(_imports_of(sys.modules[name]) for name in fresh))):
            try:
                importlib.import_module(imported)
            except ImportError:  # an optional or type-checking-only import: the stage would not load it either
                continue
            yield imported


def _project_modules() -> list[str]:
    return [name for name in list(sys.modules) if name.split(".")[0] == _PROJECT]


def _imports_of(module: Any) -> set[str]:
    """The absolute module names a module's source imports (``from x import y`` gives ``x``)."""
    file = getattr(module, "__file__", None)
    if not file or not file.endswith(".py"):
        return set()
    names: set[str] = set()
    for node in ast.walk(ast.parse(Path(file).read_bytes())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def _module_files() -> list[str]:
    return [file for module in list(sys.modules.values()) if (file := getattr(module, "__file__", None))]


def _stamp(file: str) -> tuple[int, int]:
    try:
        status = os.stat(file)
    except OSError:
        return (-1, -1)
    return (status.st_mtime_ns, status.st_size)


def _changed_modules(loaded: dict[str, tuple[int, int]]) -> list[str]:
    """The imported module files that changed (or went) since the host imported them."""
    return [file for file, stamp in loaded.items() if _stamp(file) != stamp]


def _work(connection: socket.socket, loaded: dict[str, tuple[int, int]]) -> int:
    """A worker: take one request and run it as ``python <script>`` would, then report the exit code."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    header, fds, _flags, _address = socket.recv_fds(connection, _LENGTH.size, _STDIO)
    request = json.loads(_receive(connection, _LENGTH.unpack(header)[0]))
    refusal = _refusal(connection, loaded)
    if refusal or len(fds) != _STDIO:
        connection.sendall(_line({"refused": refusal or "the standard streams did not arrive"}))
        return 0
    connection.sendall(_line({"pid": os.getpid()}))
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    script = os.path.relpath(request["script"], request["cwd"])
    print(f"stage host: {script} runs in a fork of the host", file=sys.stderr)
    code = _run_script(request)
    connection.sendall(_line({"exit": code}))
    return code


def _refusal(connection: socket.socket, loaded: dict[str, tuple[int, int]]) -> str | None:
    uid = struct.unpack("3i", connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))[2]
    if uid != os.getuid():
        return f"uid {uid} is not the host's"
    changed = _changed_modules(loaded)
    return f"{changed[0]} changed since the host imported it" if changed else None


def _run_script(request: dict[str, Any]) -> int:
    import atexit
    import runpy
    import traceback

    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = [request["script"], *request["argv"]]
    sys.path[0] = os.path.dirname(request["script"])
    code: int = 0
    try:
        runpy.run_path(request["script"], run_name="__main__")
    except SystemExit as stop:
        code = _exit_code(stop.code)
    except BaseException:  # what the interpreter would print for an uncaught exception, and its exit code
        traceback.print_exc()
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    return code


def _exit_code(value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    print(value, file=sys.stderr)
    return 1


def _receive(connection: socket.socket, size: int) -> bytes:
    chunks: list[bytes] = []
    while size:
        chunk = connection.recv(min(size, 1 << 16))
        if not chunk:
            raise ConnectionError("the client closed the connection mid-request")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _line(message: dict[str, Any]) -> bytes:
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
    tree = ast.parse(script.read_bytes())
    return [target.partition(":")[0] for node in ast.walk(tree) if (target := _run_stage_target(node))]


def _run_stage_target(node: ast.AST) -> str | None:
    """``"module:function"`` if ``node`` is a call ``run_stage("module:function", ...)``."""
    if not isinstance(node, ast.Call) or getattr(node.func, "id", getattr(node.func, "attr", None)) != "run_stage":
        return None
    first = node.args[0] if node.args else None
    return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None


@contextmanager
def hosting(preload: tuple[str, ...]) -> Iterator[dict[str, str]]:
    """Start a stage host that imports ``preload`` (see :func:`_importing`) for the duration of the block and
    yield the environment variable that points stage scripts at it (nothing off Linux: the stages then run as
    usual). The socket listens before the host starts importing: a stage that connects early waits, and is served
    as soon as the host is between two imports."""
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
        path = str(Path(private) / "socket")
        listener.bind(path)
        listener.listen(16)
        host = subprocess.Popen(
            [sys.executable, "-m", "slipway.pipeline.stage_host", str(listener.fileno()), *preload],
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


if __name__ == "__main__":
    from slipway.pipeline.blas_kernels import pin_blas_kernels

    pin_blas_kernels()  # before the preload imports numpy: the workers train with the kernels every machine has
    serve(int(sys.argv[1]), tuple(sys.argv[2:]))
