"""Running the project's commands as a user would: this checkout's tools, a clean environment, output captured."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
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


def git(repo: Path, *args: str) -> str:
    """``git ARGS`` in ``repo``; its output."""
    return run(["git", *args], repo).stdout


def git_tags(repo: Path) -> set[str]:
    """The tag names of a repository, a working copy or a bare remote."""
    listed = run(["git", "ls-remote", "--tags", "--refs", str(repo)], repo).stdout.splitlines()
    return {line.split("refs/tags/", 1)[1] for line in listed}
