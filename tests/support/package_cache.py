"""uv's package cache with its packages' bytecode compiled, for the environments act jobs make (`make setup` in a
fresh copy of the repository, once per job).

uv installs a package by hard-linking the files of its unpacked copy in the cache, and it links everything it finds
there, ``__pycache__`` included. From the host's cache a job's environment has no bytecode, so each job compiled
whatever it imported (a stage host's or a server's imports: 11.7 s instead of 3.8 s the first time). The copy made
here is the host's cache hard-linked (no file data is copied, the host's cache is never written) with the unpacked
packages compiled once per machine; each later call links what the host's cache gained and compiles only the
packages new to it."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

UNPACKED = "archive-v0"
"""uv's folder of unpacked packages (one subfolder each, named by a content id, never changed once written)."""
_COMPILED = ".slipway-compiled"
"""The unpacked packages already compiled, one name a line."""


def compiled_package_cache(host: Path, target: Path | None = None) -> Path:
    """``target`` (default: beside ``host``, on its file system) holding ``host``'s files as hard links and its
    unpacked packages' bytecode. ``host`` itself when that cannot be made (another file system, no room, no right
    to write there): environments are then made as before, only slower to start."""
    target = target or host.with_name(f"{host.name}.slipway-compiled")
    try:
        with target.with_name(f"{target.name}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            _link_missing(host, target)
            _compile_new_packages(target / UNPACKED)
    except OSError:
        return host
    return target


def _compile_new_packages(unpacked: Path) -> None:
    """Compile the packages of ``unpacked`` not compiled by an earlier call (their names are kept beside them)."""
    stamp = unpacked.with_name(_COMPILED)
    compiled = set(stamp.read_text().split()) if stamp.exists() else set()
    new = [p.name for p in unpacked.iterdir() if p.is_dir() and p.name not in compiled] if unpacked.is_dir() else []
    if new:
        # errors (a package's deliberately broken test files) leave that file uncompiled, nothing else
        command = [sys.executable, "-m", "compileall", "-q", "-j", "0", *(str(unpacked / name) for name in new)]
        subprocess.run(command, capture_output=True, check=False)
        stamp.write_text("".join(f"{name}\n" for name in sorted(compiled | set(new))))


def _link_missing(source: Path, target: Path) -> None:
    """Hard-link every file and symbolic link (uv's are relative) of ``source`` that ``target`` lacks, at the same
    relative path, making folders as needed."""
    for folder, folders, files in os.walk(source):
        destination = target / os.path.relpath(folder, source)
        destination.mkdir(exist_ok=True)
        for name in files + [name for name in folders if os.path.islink(os.path.join(folder, name))]:
            if not os.path.lexists(destination / name):
                os.link(os.path.join(folder, name), destination / name, follow_symlinks=False)
