"""The stage host's own process (:mod:`slipway.pipeline.stage_host` starts it and holds the client side): it
imports the pipeline's stage modules and their libraries one stage ahead of the stages DVC runs, and forks a worker
for each stage script that hands itself over. Run as ``python -m slipway.pipeline.stage_host_process <listening fd>
<stage module>...``."""

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
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slipway.pipeline.stage_host import REQUEST_LENGTH, STREAMS, message_line, receive_exactly, script_stage_modules

_PROJECT = "slipway"
_PARENT_CHECK_SECONDS = 1.0
_REQUEST_SECONDS = 10.0
_CREDENTIALS = struct.calcsize("3i")


def serve(listening_fd: int, preload: tuple[str, ...]) -> None:
    """Import the stage modules ``preload`` (in pipeline order) with their libraries (:func:`_importing`) and fork
    one worker per connection on the listening socket ``listening_fd`` until the parent process dies or a signal ends
    the host. It imports one stage ahead: stage i's libraries once stage i-1, or a later stage, has come. Importing
    what no stage needs yet would take a core from the running stage and from DVC. A stage that connects while its
    own libraries are being imported is served between two imports, with what is loaded so far, and imports the
    rest itself; one that connects while an earlier stage's are still being imported (DVC skipped or restored the
    stages before it) waits until its own are, rather than import them a second time beside the host."""
    parent = os.getppid()
    host = _Host(socket.socket(fileno=listening_fd), preload)
    signal.signal(signal.SIGTERM, _stop)
    seen: set[str] = set()
    try:
        for stage, module in enumerate(preload):
            while host.reached < stage - 1 and os.getppid() == parent:
                host.serve(wait=True)
            if os.getppid() != parent:  # the command ended before this stage came: nothing more to import for
                return
            for _ in _importing(module, seen):
                host.serve(wait=False)
            host.imported_stage(stage)
        while os.getppid() == parent:
            host.serve(wait=True)
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


@dataclass
class _Request:
    """A stage's request as the host took it: the connection to answer on, the request, the client's streams, and
    the stage (index in the host's preload, -1 for none) its script runs."""

    connection: socket.socket
    request: dict[str, Any]
    fds: list[int]
    stage: int

    def close(self) -> None:
        for fd in self.fds:
            os.close(fd)
        self.connection.close()


class _Host:
    """The listening socket, the module files imported so far with their stamps, the furthest stage that came, the
    furthest whose libraries are imported, and the stages waiting for theirs."""

    def __init__(self, listener: socket.socket, preload: tuple[str, ...]) -> None:
        self.listener = listener
        self.preload = preload
        self.loaded: dict[str, tuple[int, int]] = {}
        self.reached = -1
        """The furthest stage (index in ``preload``) whose script has come (handed to a worker, or waiting)."""
        self.imported = -1
        """The furthest stage whose libraries are all imported (the host is importing the next one's)."""
        self.waiting: list[_Request] = []

    def serve(self, wait: bool) -> None:
        """Take each connection waiting; with ``wait``, first wait up to a second for one."""
        self.listener.settimeout(_PARENT_CHECK_SECONDS if wait else 0)
        while True:
            try:
                connection, _ = self.listener.accept()
            except (BlockingIOError, TimeoutError):
                _reap()
                return
            self._take(connection)
            self.listener.settimeout(0)

    def imported_stage(self, stage: int) -> None:
        """Stage ``stage``'s libraries are imported: start the stages that were waiting for theirs up to it."""
        self.imported = stage
        for request in [request for request in self.waiting if request.stage <= stage]:
            self.waiting.remove(request)  # the others stay listed: each worker closes their connections
            self._start(request)

    def _take(self, connection: socket.socket) -> None:
        """Take the request and start its worker, at once or (a stage beyond the one being imported) once its
        stage's libraries are imported; the client runs a request refused here itself."""
        connection.settimeout(_REQUEST_SECONDS)
        uid = struct.unpack("3i", connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _CREDENTIALS))[2]
        if uid != os.getuid():
            with connection:
                connection.sendall(message_line({"refused": f"uid {uid} is not the host's"}))
            return
        try:
            request, fds = _take_request(connection)
        except (OSError, ValueError, struct.error):  # the client went or sent no request it could have sent
            connection.close()
            return
        taken = _Request(connection, request, fds, self._stage_of(request["script"]))
        self.reached = max(self.reached, taken.stage)
        if taken.stage > self.imported + 1:
            self.waiting.append(taken)
        else:
            self._start(taken)

    def _start(self, taken: _Request) -> None:
        """Fork the worker that runs ``taken``."""
        try:
            self.loaded.update({file: _stamp(file) for file in _module_files() if file not in self.loaded})
            gc.freeze()  # what the host imported stays out of the workers' collections: they do not copy its pages
            if os.fork() == 0:
                code = 1
                try:  # a worker never returns into the host's loop, nor holds the other stages' connections
                    self.listener.close()
                    for other in self.waiting:
                        other.close()
                    code = _work(taken.connection, taken.request, taken.fds, self.loaded)
                finally:
                    os._exit(code)
        finally:
            taken.close()

    def _stage_of(self, script: str) -> int:
        """The furthest stage of ``preload`` that ``script`` runs (-1: none of them)."""
        try:
            modules = script_stage_modules(Path(script))
        except (OSError, SyntaxError, ValueError):
            return -1
        return max((index for index, module in enumerate(self.preload) if module in modules), default=-1)


def _take_request(connection: socket.socket) -> tuple[dict[str, Any], list[int]]:
    """The request and the client's standard streams (:func:`~slipway.pipeline.stage_host.run_in_host` sent them)."""
    header, fds, _flags, _address = socket.recv_fds(connection, REQUEST_LENGTH.size, STREAMS)
    try:
        if len(fds) != STREAMS:
            raise ValueError("the standard streams did not arrive")
        request = json.loads(receive_exactly(connection, REQUEST_LENGTH.unpack(header)[0]))
        if not isinstance(request, dict) or not isinstance(request.get("script"), str):
            raise ValueError("not a request: no script named")
        return request, fds
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise


def _importing(module: str, seen: set[str]) -> Iterator[str]:
    """Import ``module`` and, until nothing new comes, every module that this project's loaded modules import,
    wherever the import sits (stages import their libraries inside the functions that use them), skipping project
    modules already in ``seen`` (which it extends); yield each name once imported."""
    import importlib

    importlib.import_module(module)
    yield module
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


def _work(
    connection: socket.socket, request: dict[str, Any], fds: list[int], loaded: dict[str, tuple[int, int]]
) -> int:
    """A worker: run the request as ``python <script>`` would on the client's streams ``fds``, report the exit code;
    refused (the client runs it) if a module the host imported changed since."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    connection.settimeout(None)
    if changed := _changed_modules(loaded):
        connection.sendall(message_line({"refused": f"{changed[0]} changed since the host imported it"}))
        return 0
    connection.sendall(message_line({"pid": os.getpid()}))
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    script = os.path.relpath(request["script"], request["cwd"])
    print(f"stage host: {script} runs in a fork of the host", file=sys.stderr)
    code = _run_script(request)
    connection.sendall(message_line({"exit": code}))
    return code


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


if __name__ == "__main__":
    from slipway.pipeline.blas_kernels import pin_blas_kernels

    pin_blas_kernels()  # before the preload imports numpy: the workers train with the kernels every machine has
    serve(int(sys.argv[1]), tuple(sys.argv[2:]))
