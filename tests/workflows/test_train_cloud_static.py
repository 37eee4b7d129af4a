"""train-cloud.yml: pinned actions, least privilege, secrets only in env, GitHub-runner fallback.

(Schema, actionlint and zizmor run on every workflow in test_static_checks.py.)
"""

from __future__ import annotations

import re

import pytest
import yaml
from support import REPO_ROOT

WORKFLOW = REPO_ROOT / ".github/workflows/train-cloud.yml"
PINNED = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}$")


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def test_every_job_has_least_privilege_and_pinned_actions(workflow):
    assert workflow["permissions"] == {}
    assert list(workflow[True]) == ["workflow_dispatch"]  # `on:` parses as True
    for name, job in workflow["jobs"].items():
        assert job["permissions"] == {"contents": "read"}, name
        for step in job["steps"]:
            uses = step.get("uses")
            assert uses is None or uses.startswith("./") or PINNED.match(uses), f"{name}: {uses} is not pinned"
            if uses and uses.startswith("actions/checkout"):
                assert step["with"]["persist-credentials"] is False
            assert "${{" not in step.get("run", ""), f"{name}: expression inside run:"


def test_training_falls_back_to_githubs_runner(workflow):
    train = workflow["jobs"]["train"]
    assert "needs.launch.outputs.runner == 'cloud'" in train["runs-on"] and "'ubuntu-latest'" in train["runs-on"]
    launch = workflow["jobs"]["launch"]
    assert launch["outputs"]["runner"].endswith("|| 'github' }}")
    (step,) = [s for s in launch["steps"] if s.get("id") == "launch"]
    assert step["run"] == "make cloud-runner"
    assert all(
        v.startswith("${{ secrets.") or v.startswith("${{ vars.") or "inputs." in v for v in step["env"].values()
    )


def test_only_the_launch_job_gets_the_cloud_credentials(workflow):
    """The cloud secrets sit in the `cloud-training` environment, which only the launch job declares; the
    training job (on the launched machine) has neither the environment nor any secret."""
    assert workflow["jobs"]["launch"]["environment"] == "cloud-training"
    train = workflow["jobs"]["train"]
    assert "environment" not in train
    assert "secrets." not in yaml.safe_dump(train)
