"""The project's rules for every workflow that no linter enforces (the linters, the workflow JSON schema, actionlint
and zizmor, run in `make lint`): a timeout on every job, secrets (other than GITHUB_TOKEN) only in jobs bound to a
GitHub environment that docs/secrets-and-tokens.md describes, pinned actions and checkouts without credentials."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from support import REPO_ROOT

WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.y*ml"))
SECRETS_DOC = REPO_ROOT / "docs" / "secrets-and-tokens.md"
SECRET_REF = re.compile(r"\bsecrets\.([A-Za-z_][A-Za-z0-9_]*)")


def test_there_are_workflows_and_a_shared_setup_action() -> None:
    assert REPO_ROOT / ".github" / "workflows" / "pr.yml" in WORKFLOWS
    assert (REPO_ROOT / ".github" / "actions" / "setup" / "action.yml").exists()


def _jobs(workflow: Path) -> dict[str, dict[str, Any]]:
    return yaml.safe_load(workflow.read_text())["jobs"]


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: Path(p).name)
def test_every_job_has_a_timeout(workflow: Path) -> None:
    """A hung step (a stuck download, a server that never answers) fails the job in minutes, not after 6 hours."""
    missing = [name for name, job in _jobs(workflow).items() if "uses" not in job and "timeout-minutes" not in job]
    assert not missing, f"{workflow.name}: jobs without timeout-minutes: {missing}"
    for name, job in _jobs(workflow).items():
        minutes = job.get("timeout-minutes")
        assert minutes is None or (isinstance(minutes, int) and 0 < minutes <= 360), f"{workflow.name}:{name}"


def job_secrets(workflow: dict[str, Any], job: dict[str, Any]) -> set[str]:
    """Secrets a job can read (its own text and the workflow-level env), GITHUB_TOKEN aside."""
    text = yaml.safe_dump(job) + yaml.safe_dump(workflow.get("env") or {})
    return set(SECRET_REF.findall(text)) - {"GITHUB_TOKEN"}


def job_environment(job: dict[str, Any]) -> str | None:
    environment = job.get("environment")
    return environment.get("name") if isinstance(environment, dict) else environment


def documented_environments(text: str) -> dict[str, dict[str, str]]:
    """The table under "## Environments" in the secrets doc: environment name -> its cells by column title."""
    assert "\n## Environments" in text, "the secrets doc has no '## Environments' section"
    section = text.split("\n## Environments", 1)[1].split("\n## ", 1)[0]
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("|") and not set(line) <= set("|-: ")
    ]
    header, body = rows[0], rows[1:]
    return {row[0].strip("`"): dict(zip(header, row, strict=True)) for row in body}


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: Path(p).name)
def test_jobs_reading_secrets_run_in_a_documented_environment(workflow: Path) -> None:
    """A secret other than GITHUB_TOKEN is only read by a job that declares a GitHub environment (whose
    protection rules, e.g. deployment branch main only or required reviewers, decide who gets it), and the doc
    names that environment, its rules and the secrets stored there."""
    parsed = yaml.safe_load(workflow.read_text())
    for name, job in parsed["jobs"].items():
        secrets = job_secrets(parsed, job)
        environment = job_environment(job)
        if not secrets and environment is None:
            continue
        assert environment, f"{workflow.name}: job {name!r} reads {sorted(secrets)} outside a GitHub environment"
        documented = documented_environments(SECRETS_DOC.read_text())
        assert environment in documented, f"{workflow.name}:{name}: environment {environment!r} is not in the doc"
        row = documented[environment]
        assert f"`{workflow.name}`" in row["used by"], f"{environment}: the doc does not name {workflow.name}"
        assert row["deployment branches"] and row["required reviewers"], f"{environment}: rules not described"
        undocumented = {secret for secret in secrets if f"`{secret}`" not in row["secrets"]}
        assert not undocumented, f"{environment}: secrets {sorted(undocumented)} not listed in the doc"


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


def test_mypys_cache_is_restored_before_every_type_check_and_keyed_by_everything_mypy_reads() -> None:
    """pr.yml's lint and main.yml's type-check restore and save one cache (main's starts pull requests warm); the
    key changes with any file mypy reads, so a re-run of the same sources hits and an edit saves a new entry."""
    action = "./.github/actions/mypy-cache"
    for workflow, job, command in (("pr.yml", "tests", "make lint"), ("main.yml", "typecheck", "make typecheck")):
        steps = _jobs(REPO_ROOT / ".github" / "workflows" / workflow)[job]["steps"]
        uses = [step.get("uses") for step in steps[: next(i for i, s in enumerate(steps) if s.get("run") == command)]]
        assert action in uses, f"{workflow}:{job} type-checks without {action}"
    (cache,) = yaml.safe_load((REPO_ROOT / action / "action.yml").read_text())["runs"]["steps"]
    assert cache["uses"].startswith("actions/cache@") and cache["with"]["path"] == ".mypy_cache"
    mypy_files = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["files"]
    hashed = re.fullmatch(r"mypy-\$\{\{ runner.os \}\}-\$\{\{ hashFiles\((.*)\) \}\}", cache["with"]["key"])
    assert hashed, cache["with"]["key"]
    assert {f"'{folder}/**'" for folder in mypy_files} | {"'uv.lock'", "'pyproject.toml'"} == set(hashed[1].split(", "))
    assert cache["with"]["restore-keys"] == "mypy-${{ runner.os }}-"
