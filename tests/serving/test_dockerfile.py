"""Static checks of the serving image's files: hadolint, shellcheck, and the properties the image promises."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from support import REPO_ROOT, run

DOCKERFILE = REPO_ROOT / "infra" / "Dockerfile"


def test_dockerfile_passes_hadolint() -> None:
    hadolint = Path(os.environ.get("VIRTUAL_ENV", REPO_ROOT / ".venv")) / "bin" / "hadolint"
    result = run([str(hadolint), "--failure-threshold", "info", str(DOCKERFILE)], REPO_ROOT, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_takes_its_base_as_an_argument_runs_non_root_and_checks_health() -> None:
    text = DOCKERFILE.read_text()
    assert re.search(r"^ARG BASE_IMAGE=\S+", text, re.M)
    assert all(line.split()[1].startswith("${BASE_IMAGE}") for line in text.splitlines() if line.startswith("FROM "))
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and not user[-1].startswith(("root", "0:", "0 ")) and user[-1] != "0"
    assert re.search(r"^HEALTHCHECK .*\n?.*/health", text, re.M)
    assert "--no-index" in text  # wheels come from the prepared context: the build needs no network
    assert "pipeline" not in re.sub(r"#.*", "", text)  # serving image gets the core dependencies only


def test_dockerignore_sends_only_the_prepared_context() -> None:
    lines = [x for x in (REPO_ROOT / ".dockerignore").read_text().splitlines() if x and not x.startswith("#")]
    assert lines == ["*", "!build/image/"]


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck not installed (.ci/run installs it)")
def test_infra_scripts_pass_shellcheck() -> None:
    scripts = sorted(str(p) for p in (REPO_ROOT / "infra").glob("*.sh"))
    assert scripts
    result = run(["shellcheck", *scripts], REPO_ROOT, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
