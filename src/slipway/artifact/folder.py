"""The model folder's files: which are served (and so digested and checked), and the release file.

A released folder (``deployments/releases/<version>``) is checked file by file against the digests its registry tag
recorded; ``version.json`` (written at deploy time) says which version and commit it holds."""

from __future__ import annotations

import json
from pathlib import Path

from slipway.artifact.digest import file_md5

RELEASE_FILE = "version.json"
"""Written into a materialised model folder; the serving API reports it on /version."""


UNDIGESTED = frozenset({RELEASE_FILE, "metadata.json", "onnx_check.json"})
"""Files of a model folder a registration does not digest: the release note the materialiser writes, the training
provenance (it names the commit it was trained at, so a rebuild at the version's commit differs) and the report of
the ONNX check (serving reads neither of the last two for predictions). Every other file must match."""


def folder_digests(folder: Path) -> dict[str, str]:
    """md5 of every file of a model folder that a registration records (all but ``UNDIGESTED``); anything that
    is not a plain file is listed with an empty digest, so it can never match."""
    return {
        path.name: file_md5(path) if path.is_file() and not path.is_symlink() else ""
        for path in sorted(folder.iterdir())
        if path.name not in UNDIGESTED
    }


def write_release(model_dir: Path, version: str, commit: str | None, artifact: str) -> None:
    (model_dir / RELEASE_FILE).write_text(
        json.dumps({"artifact": artifact, "version": version, "commit": commit}, indent=2) + "\n"
    )


def read_release(model_dir: Path) -> dict[str, str | None]:
    path = model_dir / RELEASE_FILE
    return json.loads(path.read_text()) if path.exists() else {}
