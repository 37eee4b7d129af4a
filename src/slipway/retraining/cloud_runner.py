"""Train on a bigger machine: decide whether (and how) to launch a CML cloud runner from the environment.

``.github/workflows/train-cloud.yml`` calls ``slipway cloud-runner``. With the repository variable ``CML_CLOUD``
and that cloud's secrets set, it launches a runner (``cml runner launch --cloud ...``) that picks up the training
job; otherwise it says what is missing and the job runs on GitHub's own runner. Secrets are read by ``cml`` from
the environment; they are never put on a command line or printed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from slipway.adapters.commands import run_command
from slipway.adapters.github import write_outputs

RUNNER_LABEL = "slipway-cloud"
CLOUD_SECRETS: dict[str, tuple[str, ...]] = {
    "aws": ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
    "gcp": ("GOOGLE_APPLICATION_CREDENTIALS_DATA",),
    "azure": ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_SUBSCRIPTION_ID", "AZURE_TENANT_ID"),
}
"""The variables cml reads to create an instance on each cloud (set as repository secrets)."""
TOKEN = "REPO_TOKEN"
"""A token allowed to register self-hosted runners (secret CML_RUNNER_TOKEN); GITHUB_TOKEN cannot."""


@dataclass(frozen=True)
class RunnerPlan:
    """Either a cml command to run, or why the job stays on GitHub's runner."""

    command: list[str] | None
    reason: str

    @property
    def runner(self) -> str:
        """The value the workflow's train job reads: ``cloud`` or ``github``."""
        return "cloud" if self.command else "github"


def plan_runner(env: Mapping[str, str]) -> RunnerPlan:
    """The cml runner launch command for the configured cloud, or the reason not to launch one."""
    cloud = env.get("CML_CLOUD", "").strip().lower()
    if not cloud:
        return RunnerPlan(None, "CML_CLOUD is not set: training runs on GitHub's runner")
    if cloud not in CLOUD_SECRETS:
        return RunnerPlan(None, f"CML_CLOUD={cloud!r} is not one of {', '.join(CLOUD_SECRETS)}: not launching")
    missing = [name for name in (TOKEN, *CLOUD_SECRETS[cloud]) if not env.get(name)]
    if missing:
        return RunnerPlan(None, f"CML_CLOUD={cloud} but {', '.join(missing)} not set: training runs on GitHub's runner")
    command = [
        "cml",
        "runner",
        "launch",
        f"--cloud={cloud}",
        f"--labels={RUNNER_LABEL}",
        "--single",
        f"--idle-timeout={env.get('CML_IDLE_TIMEOUT') or 600}",
    ]
    if env.get("CML_CLOUD_REGION"):
        command.append(f"--cloud-region={env['CML_CLOUD_REGION']}")
    if env.get("CML_CLOUD_TYPE"):
        command.append(f"--cloud-type={env['CML_CLOUD_TYPE']}")
    if env.get("CML_CLOUD_SPOT", "").lower() in ("1", "true", "yes"):
        command.append("--cloud-spot")
    where = f"{cloud} {env.get('CML_CLOUD_TYPE') or '(default type)'} in {env.get('CML_CLOUD_REGION') or 'us-west'}"
    return RunnerPlan(command, f"launching a runner labelled {RUNNER_LABEL} on {where}")


def launch_runner(env: Mapping[str, str], dry_run: bool = False, log: Callable[[str], None] = print) -> int:
    """``slipway cloud-runner``: say what :func:`plan_runner` decided, launch the runner (unless ``dry_run``), and
    tell the workflow where training runs (step output ``runner``: ``cloud`` or ``github``). Returns cml's exit
    code (0 when nothing was launched); after a failed launch no output is written."""
    plan = plan_runner(env)
    log(plan.reason)
    if plan.command and not dry_run:
        log("$ " + " ".join(plan.command))
        code = run_command(plan.command, check=False, capture=False).returncode
        if code != 0:
            return code
    write_outputs({"runner": "github" if dry_run else plan.runner}, env)
    return 0
