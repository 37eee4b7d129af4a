"""The properties the serving image's files promise (hadolint and shellcheck run in `make lint`)."""

from __future__ import annotations

import re

from support import REPO_ROOT

DOCKERFILE = REPO_ROOT / "infra" / "Dockerfile"


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
