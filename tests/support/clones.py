"""Copies of the project to run it in: fresh clones of the working tree, and clones built once per test run that
tests copy instead of rebuilding."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from support.commands import REPO_ROOT, VENV_BIN, project_env, run

DVC_CACHE = Path(".dvc/cache")


def dvc_project(root: Path, pipeline: str, scm: bool = True) -> Path:
    """A new DVC project in ``root`` whose dvc.yaml is ``pipeline`` (a git repository too unless ``scm`` is False)."""
    root.mkdir(parents=True)
    if scm:
        run(["git", "init", "-q"], root)
    run([str(VENV_BIN / "dvc"), "init", "-q", *([] if scm else ["--no-scm"])], root)
    (root / "dvc.yaml").write_text(pipeline)
    return root


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


def git_clone(source: Path, dest: Path, *options: str) -> Path:
    """``git clone`` of ``source`` (a repository folder) at ``dest``, e.g. with ``--bare``."""
    run(["git", "clone", "-q", *options, str(source), str(dest)], dest.parent, env=project_env(dest.parent))
    return dest


def pull_data(repo: Path) -> Path:
    """``dvc pull`` of the raw data (offline, from the embedded remote)."""
    run(["dvc", "pull", "-q", "data.dvc"], repo)
    return repo


def reproduce(repo: Path) -> Path:
    """``slipway repro`` (``dvc repro`` with its stages in one stage host, as ``make run`` does) of the whole
    pipeline."""
    run(["slipway", "repro"], repo)
    return repo


def copy_clone(source: Path, dest: Path) -> Path:
    """A copy of ``source`` (git history, data, outputs and all) at ``dest``, with its DVC cache hardlinked:
    DVC writes a cache file once and never changes it in place, so copies can share the files."""
    cache = source / DVC_CACHE
    shutil.copytree(
        source, dest, symlinks=True, ignore=lambda folder, _: ["cache"] if Path(folder) == cache.parent else []
    )
    link_dvc_cache(cache, dest)
    run(["git", "update-index", "-q", "--refresh"], dest, check=False)  # the copies' inodes: git status writes nothing
    return dest


def link_dvc_cache(cache: Path, repo: Path) -> Path:
    """Fill ``repo``'s own DVC cache (.dvc/cache) with hardlinks to the files of ``cache``: the stage outputs and the
    run cache of a pipeline already reproduced, so a ``dvc repro`` of the same stages restores instead of running."""
    if cache.is_dir():
        shutil.copytree(cache, repo / DVC_CACHE, copy_function=os.link, dirs_exist_ok=True)
    return repo


def built_once(target: Path, build: Callable[[Path], Path]) -> Path:
    """``build(target)`` once per test run, whichever pytest-xdist worker asks first (the others wait for it)."""
    done = target.with_name(f"{target.name}.done")
    with target.with_name(f"{target.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(target, ignore_errors=True)
            build(target)
            done.touch()
    return target


def tree_digest(root: Path, exclude: tuple[str, ...] = ()) -> dict[str, str]:
    """Every file under ``root`` (.git and .dvc included) by content hash, except Python's bytecode caches (the
    interpreter writes them when the commands import the clone's src/) and paths starting with one of ``exclude``:
    compare before/after to prove that a command left a repository exactly as it was."""
    return {
        name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.is_symlink() and "__pycache__" not in path.parts
        for name in [str(path.relative_to(root))]
        if not name.startswith(exclude)
    }
