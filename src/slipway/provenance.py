"""What a trained model came from: data hash, params, library versions.

Nothing here depends on the git commit: the model folder is a DVC-hashed output, so a commit in it would change
``dvc.lock`` on every commit. The commit of a model version is what its registry tag points to, and the deploy
step writes it into the released folder's ``version.json``.
"""

from __future__ import annotations

import hashlib
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import yaml

LIBRARIES = ("scikit-learn", "pandas", "numpy", "pandera", "skops", "slipway")


def file_md5(path: Path | str) -> str:
    """MD5 of a file's bytes (the hash DVC uses for files)."""
    digest = hashlib.md5()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def dvc_tracked_md5(dvc_file: Path | str) -> str | None:
    """The hash recorded in a ``.dvc`` file (e.g. ``data.dvc``), if there is one."""
    path = Path(dvc_file)
    if not path.exists():
        return None
    outs = (yaml.safe_load(path.read_text()) or {}).get("outs") or [{}]
    return outs[0].get("md5")


def library_versions() -> dict[str, str]:
    """Versions of the libraries that shape the model, and Python's."""
    found = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def training_metadata(
    data_path: Path | str, params: dict[str, Any], extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Everything needed to trace a model back to its inputs."""
    return {
        "data": {
            "dataset_md5": dvc_tracked_md5("data.dvc"),
            "train_split": str(data_path),
            "train_split_md5": file_md5(data_path),
        },
        "params": params,
        "libraries": library_versions(),
        **(extra or {}),
    }
