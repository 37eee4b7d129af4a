"""Content digests of files (MD5, the hash DVC uses for files)."""

from __future__ import annotations

import hashlib
from pathlib import Path


def file_md5(path: Path | str) -> str:
    """MD5 of a file's bytes (the hash DVC uses for files)."""
    digest = hashlib.md5()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
