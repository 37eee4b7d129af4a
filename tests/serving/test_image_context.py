"""infra/image_context.sh, the serving image's build context: once its wheel cache holds the lock's wheels, a build
asks no package index (a release rebuilt offline, and 1 s instead of 5 for every image after the first)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support import fresh_clone, project_env, run

pytestmark = pytest.mark.slow

UNREACHABLE_INDEX = {"PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_RETRIES": "0", "PIP_TIMEOUT": "2"}


def test_with_the_wheels_cached_the_context_is_built_without_a_package_index(model_dir: Path, tmp_path: Path) -> None:
    repo = fresh_clone(tmp_path / "repo")  # the script writes <repo>/build/image: never the checkout's own
    script = str(repo / "infra" / "image_context.sh")
    run(["bash", script, str(model_dir)], repo)  # fills the wheel cache from the index if it lacks any
    shutil.rmtree(repo / "build")

    offline = {**project_env(repo), **UNREACHABLE_INDEX, "PIP_FIND_LINKS": "", "UV_OFFLINE": "1"}
    built = run(["bash", script, str(model_dir)], repo, env=offline, check=False)

    assert built.returncode == 0, built.stdout + built.stderr
    wheels = {path.name.split("-")[0] for path in (repo / "build" / "image" / "wheels").glob("*.whl")}
    assert {"slipway", "scikit_learn", "onnxruntime", "fastapi"} <= wheels
    assert (repo / "build" / "image" / "model" / "model.skops").read_bytes() == (model_dir / "model.skops").read_bytes()
