"""The monitor's alert on GitHub: one open issue (created once, then updated) and a retraining dispatch.

Everything goes through the ``gh`` CLI (``GH_TOKEN`` in the environment), so the same code runs in a workflow,
on a laptop, and in tests against a recording stand-in. Deduplication: an open issue carrying ``label`` whose
title is ``title`` is the one issue; a new alert edits its body and adds a comment instead of opening another.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from slipway.adapters.commands import run_command

Runner = Callable[[Sequence[str]], str]

DEFAULT_TITLE = "Model monitoring alert"
DEFAULT_LABEL = "monitoring-alert"


def gh(command: Sequence[str]) -> str:
    """Run ``gh`` and return its output; a failure raises CommandError (a RuntimeError) with gh's message."""
    return run_command(["gh", *command]).stdout


def find_alert_issue(issues: list[dict], title: str) -> int | None:
    """The lowest-numbered open issue with exactly this title (the list is already filtered by label)."""
    numbers = [int(issue["number"]) for issue in issues if issue.get("title") == title]
    return min(numbers) if numbers else None


@dataclass(frozen=True)
class AlertOutcome:
    issue: int | None
    created: bool
    dispatched: bool


def raise_alert(
    body: str,
    summary: str,
    title: str = DEFAULT_TITLE,
    label: str = DEFAULT_LABEL,
    dispatch: str | None = "retrain.yml",
    ref: str | None = None,
    runner: Runner = gh,
) -> AlertOutcome:
    """Open or update the one alert issue, then dispatch the retraining workflow with the reason."""
    runner(["label", "create", label, "--color", "D93F0B", "--description", "Raised by slipway monitor", "--force"])
    listed = runner(["issue", "list", "--state", "open", "--label", label, "--json", "number,title", "--limit", "100"])
    number = find_alert_issue(json.loads(listed or "[]"), title)
    created = number is None
    if created:
        url = runner(["issue", "create", "--title", title, "--label", label, "--body", body]).strip()
        tail = url.rstrip("/").rsplit("/", 1)[-1]
        number = int(tail) if tail.isdigit() else None
    else:
        runner(["issue", "edit", str(number), "--body", body])
        runner(["issue", "comment", str(number), "--body", f"Still alerting: `{summary}`"])
    if dispatch:
        command = ["workflow", "run", dispatch, "-f", "trigger=monitor", "-f", f"reason={summary}"]
        if number is not None:
            command += ["-f", f"issue={number}"]
        if ref:
            command += ["--ref", ref]
        runner(command)
    return AlertOutcome(number, created, bool(dispatch))
