"""The retraining pull request: ``dvc add`` + ``dvc push`` the new data, commit ``data.dvc`` on a new branch,
push it and open a PR that explains why. The PR's own workflow then retrains, evaluates and comments."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from slipway.adapters.commands import run_command
from slipway.adapters.github import run_url
from slipway.config import Config
from slipway.retraining.ingest import IngestError, IngestSummary

Runner = Callable[[Sequence[str]], str]


def branch_name(prefix: str, now: datetime | None = None, suffix: str = "") -> str:
    """``retrain/20261123-181500`` (plus a run id when given): unique per run, valid as a git ref."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    clean = re.sub(r"[^A-Za-z0-9._-]+", "-", suffix).strip("-")
    return f"{prefix}{stamp}" + (f"-{clean}" if clean else "")


def pr_body(trigger: str, reason: str, ingest: IngestSummary | None, issue: str = "", run_url: str = "") -> str:
    """Why this PR exists: the trigger, the monitor's finding, and what changed in the data."""
    lines = [
        "## Retraining: new data",
        "",
        f"**Trigger**: `{trigger or 'manual'}`" + (f" (monitoring issue #{issue})" if issue else ""),
        "",
    ]
    if reason:
        lines += ["**Why**:", "", *(f"> {line}" for line in reason.strip().splitlines()), ""]
    if ingest:
        lines += [
            "**Data change** (`data.dvc`):",
            "",
            f"- source: `{ingest.source}`" + (f", demo shift {ingest.shift}" if ingest.shift else ""),
            f"- {ingest.rows_new:,} new rows ({ingest.mode}): {ingest.rows_before:,} -> {ingest.rows_after:,} rows",
            "",
        ]
    lines += [
        "The pull-request workflow validates the data, retrains, evaluates and compares the model with `main` "
        "in its report comment; merge when the quality gate passes.",
    ]
    if issue:
        lines += ["", f"Closes #{issue} (the next monitoring run opens a new alert if the drift persists)."]
    if run_url:
        lines += ["", f"Opened by {run_url}"]
    return "\n".join(lines) + "\n"


def _run(command: Sequence[str], cwd: Path) -> str:
    """A command's output; a failure raises CommandError (a RuntimeError with one redacted line)."""
    return run_command(command, cwd).stdout


def _local_remote_folder(repo: Path, runner: Runner) -> str | None:
    """The default DVC remote's folder when it lives inside the repository (the embedded demo remote)."""
    try:
        name = runner(["dvc", "remote", "default"]).strip()
        url = runner(["dvc", "config", f"remote.{name}.url"]).strip() if name else ""
    except RuntimeError:
        return None
    if not url or "://" in url:
        return None
    folder = (repo / ".dvc" / url).resolve() if not Path(url).is_absolute() else Path(url).resolve()
    try:
        return str(folder.relative_to(repo.resolve()))
    except ValueError:
        return None


def open_retrain_pr(
    repo: Path,
    branch: str,
    title: str,
    body: str,
    base: str = "main",
    push: bool = True,
    pull_request: bool = True,
    labels: Sequence[str] = (),
    runner: Runner | None = None,
) -> dict[str, Any]:
    """Track the new data with DVC, commit it on ``branch``, push, and open the PR; returns what was done."""
    run = runner or (lambda command: _run(command, repo))
    done: dict[str, Any] = {"branch": branch}
    run(["dvc", "add", "data"])
    if not run(["git", "status", "--porcelain", "--", "data.dvc"]).strip():
        raise IngestError("data.dvc did not change: the ingestion added nothing")
    run(["dvc", "push", "data.dvc"])  # the raw data only: pipeline outputs are not kept in the remote
    run(["git", "switch", "-c", branch])
    paths = ["data.dvc"]
    embedded = _local_remote_folder(repo, run)
    if embedded:
        paths.append(embedded)  # the embedded remote is committed: a clone's `dvc pull` needs the new files
    run(["git", "add", "--", *paths])
    run(["git", "commit", "-q", "-m", title])
    done["commit"] = run(["git", "rev-parse", "HEAD"]).strip()
    if push:
        run(["gh", "auth", "setup-git"])
        run(["git", "push", "origin", f"HEAD:refs/heads/{branch}"])
        done["pushed"] = True
    if push and pull_request:
        command = ["gh", "pr", "create", "--base", base, "--head", branch, "--title", title, "--body", body]
        for label in labels:
            command += ["--label", label]
        done["pull_request"] = run(command).strip()
    return done


def retrain_pr(
    repo: Path,
    config: Config,
    trigger: str = "manual",
    reason: str = "",
    issue: str = "",
    base: str = "main",
    push: bool = True,
    ingest_summary: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """``slipway retrain-pr``: the new data on a new branch (named after the workflow run inside Actions), pushed
    and proposed with a pull request that says why (the trigger, the monitor's finding, the ingestion summary)."""
    env = os.environ if env is None else env
    summary = None
    if ingest_summary is not None and ingest_summary.is_file():
        summary = IngestSummary(**json.loads(ingest_summary.read_text()))
    branch = branch_name(config.retrain.branch_prefix, suffix=env.get("GITHUB_RUN_ID", ""))
    body = pr_body(trigger, reason, summary, issue, run_url(env))
    return open_retrain_pr(repo, branch, f"Retrain on new data ({trigger})", body, base, push)
