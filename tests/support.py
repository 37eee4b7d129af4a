"""Helpers for tests that run the project as a user would: in a fresh copy, with real commands."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(os.environ.get("VIRTUAL_ENV", REPO_ROOT / ".venv")) / "bin"


def project_env(root: Path, **extra: str) -> dict[str, str]:
    """Environment for running the project's commands in ``root`` with this checkout's installed tools."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "DVC_"))}
    env.update(
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        PYTHONPATH=str(root / "src"),
        DVC_NO_ANALYTICS="1",
        ITERATIVE_DO_NOT_TRACK="1",
        GIT_AUTHOR_NAME="Slipway Test",
        GIT_AUTHOR_EMAIL="test@slipway.invalid",
        GIT_COMMITTER_NAME="Slipway Test",
        GIT_COMMITTER_EMAIL="test@slipway.invalid",
    )
    env.update(extra)
    return env


def run(
    command: list[str] | str, cwd: Path, check: bool = True, env: dict[str, str] | None = None, timeout: int = 900
) -> subprocess.CompletedProcess[str]:
    """Run a command in ``cwd`` and capture its output; on unexpected failure, show it."""
    result = subprocess.run(
        command,
        cwd=cwd,
        env=env or project_env(cwd),
        capture_output=True,
        text=True,
        shell=isinstance(command, str),
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{command!r} failed ({result.returncode})\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        )
    return result


def fresh_clone(dest: Path, source: Path = REPO_ROOT) -> Path:
    """A new git repository holding exactly what a clone of ``source`` would: its tracked and
    not-ignored files as they are in the working tree (so uncommitted work is tested too), one commit,
    on branch main. Ignored files (the data, .venv, DVC cache) are not copied: a clone must pull them."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=source,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    dest.mkdir(parents=True, exist_ok=True)
    for name in filter(None, listed):
        relative = name.decode()
        origin = source / relative
        if not origin.is_file():
            continue  # deleted in the working tree
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(origin, target)
    env = project_env(dest)
    run(["git", "init", "-q", "-b", "main"], dest, env=env)
    run(["git", "add", "-A"], dest, env=env)
    run(["git", "commit", "-q", "-m", "fresh clone"], dest, env=env)
    return dest


def reproduced_clone(dest: Path) -> Path:
    """A fresh clone with the data pulled (offline, from the embedded remote) and `dvc repro` run."""
    repo = fresh_clone(dest)
    run(["dvc", "pull", "-q", "data.dvc"], repo)
    run(["dvc", "repro"], repo)
    return repo


def tree_digest(root: Path) -> dict[str, str]:
    """Every file under ``root`` (.git and .dvc included) by content hash: compare before/after to prove
    that a command left a repository exactly as it was."""
    import hashlib

    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.is_symlink()
    }


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(model_dir: Path, port: int, cwd: Path = REPO_ROOT, **env: str) -> subprocess.Popen[bytes]:
    """``slipway serve`` on 127.0.0.1:``port`` for ``model_dir``, in the background (stop it with stop_server)."""
    command = [str(VENV_BIN / "slipway"), "serve", "--model-dir", str(model_dir), "--port", str(port)]
    return subprocess.Popen(
        command, cwd=cwd, env=project_env(cwd, **env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def stop_server(process: subprocess.Popen[bytes]) -> str:
    """Stop a server started with start_server; its output."""
    process.terminate()
    output, _ = process.communicate(timeout=30)
    return output.decode(errors="replace")
