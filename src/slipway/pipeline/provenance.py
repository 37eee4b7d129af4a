"""What a trained model came from: data hash, params, library versions.

Nothing here depends on the git commit: the model folder is a DVC-hashed output, so a commit in it would change
``dvc.lock`` on every commit. The commit of a model version is what its registry tag points to, and the deploy
step writes it into the released folder's ``version.json``."""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from slipway.adapters.dvc_files import dvc_tracked_md5
from slipway.artifact.digest import file_md5

LIBRARIES = ("scikit-learn", "pandas", "numpy", "pandera", "skops", "slipway")


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
