"""Small file helpers shared by the stage scripts and the CLI."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PARTIAL_SUFFIX = ".partial"
"""Temporary folders next to an output are named ``.<output name>.<random>.partial``."""


def write_json(data: Any, path: Path | str) -> None:
    """Pretty, sorted-free JSON with a trailing newline, creating the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")


def read_json(path: Path | str) -> Any:
    return json.loads(Path(path).read_text())


def _install(written: Path, output: Path, scratch: Path) -> None:
    """Put ``written`` (file or folder) where ``output`` is; a previous output folder goes into ``scratch``."""
    if not (written.is_dir() or (output.is_dir() and not output.is_symlink())):
        os.replace(written, output)  # one atomic rename: a reader sees the old file or the new one
        return
    if not (output.exists() or output.is_symlink()):
        written.rename(output)
        return
    previous = scratch / f"{output.name}.previous"
    output.rename(previous)  # a folder cannot be renamed over a non-empty one
    try:
        written.rename(output)
    except OSError:
        previous.rename(output)
        raise


@contextmanager
def replace_on_success(*outputs: Path | str) -> Iterator[tuple[Path, ...]]:
    """Temporary paths for ``outputs`` (files or folders), renamed onto them only if the block succeeds.

    Each temporary path sits in a new hidden folder next to its output (same file system, so the rename does not
    copy). Write each output in full at its temporary path; nothing exists there beforehand. When the block raises,
    the temporary folders are removed and every output is left exactly as it was. A block that leaves one of its
    paths unwritten is an error too (FileNotFoundError naming it), and nothing is replaced.
    Replacing a file is one atomic rename; replacing a folder moves the old one aside into the hidden folder, then
    renames (a process killed between the two leaves the old folder there, as ``<name>.previous``).
    """
    targets = [Path(output) for output in outputs]
    scratches: list[Path] = []
    try:
        for target in targets:
            target.parent.mkdir(parents=True, exist_ok=True)
            prefix = f".{target.name}."
            scratches.append(Path(tempfile.mkdtemp(prefix=prefix, suffix=PARTIAL_SUFFIX, dir=target.parent)))
        written = tuple(scratch / target.name for scratch, target in zip(scratches, targets, strict=True))
        yield written
        missing = [str(target) for path, target in zip(written, targets, strict=True) if not path.exists()]
        if missing:
            raise FileNotFoundError(f"nothing was written for {', '.join(missing)}; the previous output is kept")
        for path, target, scratch in zip(written, targets, scratches, strict=True):
            _install(path, target, scratch)
    finally:
        for scratch in scratches:
            shutil.rmtree(scratch, ignore_errors=True)
