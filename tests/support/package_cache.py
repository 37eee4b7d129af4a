"""uv's package cache with its packages' bytecode, for the environments act jobs make (`make setup` in a fresh copy
of the repository, once per job).

uv installs a package by hard-linking the files of its unpacked copy in the cache, and it links everything it finds
there, ``__pycache__`` included. From the host's cache a job's environment has no bytecode, so each job compiled
whatever it imported (a stage host's or a server's imports: 11.7 s instead of 3.8 s the first time). The copy made
here is the host's cache hard-linked (no file data is copied, the host's cache is never written) with the bytecode
the checkout's own environment already has linked beside the same sources (uv hard-linked that environment's
files from the same cache, so a source file there and in the cache is one file: its inode finds it)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

UNPACKED = "archive-v0"
"""uv's folder of unpacked packages (one subfolder each, named by a content id, never changed once written)."""


def compiled_package_cache(host: Path, environment: Path, target: Path | None = None) -> Path:
    """``target`` (default: beside ``host``, on its file system) holding ``host``'s files as hard links and, beside
    each unpacked package's sources, the bytecode ``environment`` (a virtual environment uv made from ``host``) has
    for them. ``host`` itself when that cannot be made (another file system, no room, no right to write there):
    environments are then made as before, only slower to start."""
    target = target or host.with_name(f"{host.name}.slipway-compiled")
    try:
        with target.with_name(f"{target.name}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            _link_missing(host, target)
            _link_bytecode(environment, target / UNPACKED)
    except OSError:
        return host
    return target


def _link_missing(source: Path, target: Path) -> None:
    """Hard-link every file and symbolic link (uv's are relative) of ``source`` that ``target`` lacks, at the same
    relative path, making folders as needed."""
    for folder, folders, files in os.walk(source):
        destination = target / os.path.relpath(folder, source)
        destination.mkdir(exist_ok=True)
        for name in files + [name for name in folders if os.path.islink(os.path.join(folder, name))]:
            if not os.path.lexists(destination / name):
                os.link(os.path.join(folder, name), destination / name, follow_symlinks=False)


def _link_bytecode(environment: Path, unpacked: Path) -> None:
    """Link each ``__pycache__/<module>.<tag>.pyc`` of ``environment``'s packages into ``unpacked``, beside the
    cache's copy of its source (the same file, found by inode); bytecode whose source is not there is left out."""
    if not unpacked.is_dir():
        return
    archived = {path.stat().st_ino: path for path in unpacked.rglob("*.py")}
    for compiled in environment.glob("lib/python*/site-packages/**/__pycache__/*.pyc"):
        source = compiled.parent.parent / f"{compiled.name.split('.', 1)[0]}.py"
        cached = archived.get(source.stat().st_ino) if source.exists() else None
        if cached is not None and not (cached.parent / "__pycache__" / compiled.name).exists():
            (cached.parent / "__pycache__").mkdir(exist_ok=True)
            os.link(compiled, cached.parent / "__pycache__" / compiled.name)
