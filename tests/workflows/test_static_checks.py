"""Static checks of every workflow and local action: the workflow JSON schema, actionlint (with shellcheck for
`run:` scripts) and zizmor's security audits, offline, with zero findings. Same as `make check-workflows`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support import REPO_ROOT, VENV_BIN, project_env, run

WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.y*ml"))


def tool(name: str) -> str:
    path = VENV_BIN / name
    assert path.exists(), f"{name} is not installed in {VENV_BIN} (make setup)"
    return str(path)


def test_there_are_workflows_and_a_shared_setup_action() -> None:
    assert REPO_ROOT / ".github" / "workflows" / "pr.yml" in WORKFLOWS
    assert (REPO_ROOT / ".github" / "actions" / "setup" / "action.yml").exists()


def test_workflows_match_the_schema() -> None:
    result = run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)],
        REPO_ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_with_shellcheck() -> None:
    assert shutil.which("shellcheck"), "shellcheck is needed for actionlint's run: checks (Debian package shellcheck)"
    result = run([tool("actionlint"), "-shellcheck", shutil.which("shellcheck") or ""], REPO_ROOT, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_offline_finds_nothing() -> None:
    env = project_env(REPO_ROOT, NO_COLOR="1")
    result = run(
        [tool("zizmor"), "--offline", "--no-progress", "--format", "plain", ".github"], REPO_ROOT, check=False, env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: Path(p).name)
def test_actions_are_pinned_and_checkouts_keep_no_credentials(workflow: Path) -> None:
    """What zizmor checks too, stated plainly: full-SHA pins with a version comment, persist-credentials: false."""
    text = workflow.read_text()
    for line in text.splitlines():
        if "uses:" in line and "./" not in line:
            ref = line.split("@", 1)[1]
            sha, _, comment = ref.partition(" # ")
            assert len(sha) == 40 and comment.startswith("v"), line
    assert text.count("actions/checkout@") == text.count("persist-credentials: false")
