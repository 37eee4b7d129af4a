"""Scale-out: when and how `slipway cloud-runner` launches a CML cloud runner, run with a recording `cml`."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from support import REPO_ROOT, VENV_BIN, run

from slipway.retraining.cloud_runner import RUNNER_LABEL, launch_runner, plan_runner

AWS = {
    "CML_CLOUD": "aws",
    "REPO_TOKEN": "t0ken-value",
    "AWS_ACCESS_KEY_ID": "AKIA-test-id",
    "AWS_SECRET_ACCESS_KEY": "s3cret-value",
}


def test_nothing_configured_stays_on_githubs_runner():
    plan = plan_runner({})
    assert plan.command is None and plan.runner == "github" and "CML_CLOUD is not set" in plan.reason


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"CML_CLOUD": "aws"}, "REPO_TOKEN, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY"),
        ({"CML_CLOUD": "gcp", "REPO_TOKEN": "x"}, "GOOGLE_APPLICATION_CREDENTIALS_DATA"),
        ({"CML_CLOUD": "azure", "REPO_TOKEN": "x", "AZURE_CLIENT_ID": "a"}, "AZURE_CLIENT_SECRET"),
    ],
)
def test_missing_secrets_are_named_and_nothing_launches(env, missing):
    plan = plan_runner(env)
    assert plan.command is None and missing in plan.reason


def test_an_unknown_cloud_is_refused():
    assert "not one of aws, gcp, azure" in plan_runner({**AWS, "CML_CLOUD": "moon"}).reason


def test_a_configured_cloud_gets_a_single_job_runner_with_its_options():
    plan = plan_runner({**AWS, "CML_CLOUD_REGION": "eu-west", "CML_CLOUD_TYPE": "m5.2xlarge", "CML_CLOUD_SPOT": "true"})
    assert plan.runner == "cloud"
    assert plan.command == [
        "cml",
        "runner",
        "launch",
        "--cloud=aws",
        f"--labels={RUNNER_LABEL}",
        "--single",
        "--idle-timeout=600",
        "--cloud-region=eu-west",
        "--cloud-type=m5.2xlarge",
        "--cloud-spot",
    ]
    assert not any(secret in " ".join(plan.command) for secret in AWS.values() if secret != "aws")


def _recording_cml(folder: Path, exit_code: int = 0) -> Path:
    """A `cml` stand-in that records its arguments and whether the cloud secrets reached it."""
    folder.mkdir()
    script = folder / "cml"
    script.write_text(
        "#!/usr/bin/env python3\n"
        "import json, os, sys\n"
        f"open({str(folder / 'calls.jsonl')!r}, 'a').write(json.dumps({{'argv': sys.argv[1:], "
        "'has_token': bool(os.environ.get('REPO_TOKEN')), "
        "'has_key': bool(os.environ.get('AWS_SECRET_ACCESS_KEY'))}) + '\\n')\n"
        f"sys.exit({exit_code})\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return folder


@pytest.mark.parametrize(("env", "launched"), [({}, False), (AWS, True)])
def test_the_verb_launches_only_when_configured_and_tells_the_workflow(tmp_path, env, launched):
    stand_in = _recording_cml(tmp_path / "bin")
    output = tmp_path / "github_output"
    base = {k: v for k, v in os.environ.items() if not k.startswith(("CML_", "AWS_", "REPO_TOKEN"))}
    full = {**base, **env, "PATH": f"{stand_in}{os.pathsep}{VENV_BIN}{os.pathsep}{base['PATH']}"}
    result = run(["slipway", "cloud-runner"], REPO_ROOT, env={**full, "GITHUB_OUTPUT": str(output)})
    assert output.read_text() == f"runner={'cloud' if launched else 'github'}\n"
    calls = stand_in / "calls.jsonl"
    if launched:
        (call,) = [json.loads(line) for line in calls.read_text().splitlines()]
        assert call["argv"][:4] == ["runner", "launch", "--cloud=aws", f"--labels={RUNNER_LABEL}"]
        assert call["has_token"] and call["has_key"]
        assert "t0ken-value" not in result.stdout + result.stderr
    else:
        assert not calls.exists() and "CML_CLOUD is not set" in result.stdout


def test_a_failed_launch_fails_the_step(tmp_path):
    stand_in = _recording_cml(tmp_path / "bin", exit_code=3)
    env = {**os.environ, **AWS, "PATH": f"{stand_in}{os.pathsep}{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    result = run(["slipway", "cloud-runner"], REPO_ROOT, env=env, check=False)
    assert result.returncode == 3 and "cml exited with 3" in result.stderr


def test_a_dry_run_launches_nothing_and_keeps_training_on_github(tmp_path):
    output = tmp_path / "github_output"
    said: list[str] = []
    env = {**AWS, "GITHUB_OUTPUT": str(output), "PATH": str(tmp_path / "no-cml-here")}
    assert launch_runner(env, dry_run=True, log=said.append) == 0
    assert said == [plan_runner(env).reason] and output.read_text() == "runner=github\n"
