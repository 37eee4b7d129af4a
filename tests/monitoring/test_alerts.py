"""The alert: one issue per open alert (found by label and title), updated rather than duplicated; a dispatch."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest

from slipway.monitoring.alerts import DEFAULT_LABEL, DEFAULT_TITLE, find_alert_issue, raise_alert


class FakeGh:
    """Answers like gh for the few commands used, keeping issues in memory, and records every call."""

    def __init__(self, issues: list[dict] | None = None) -> None:
        self.issues = issues or []
        self.calls: list[list[str]] = []

    def __call__(self, command: Sequence[str]) -> str:
        command = list(command)
        self.calls.append(command)
        if command[:2] == ["issue", "list"]:
            label = command[command.index("--label") + 1]
            return json.dumps(
                [{"number": i["number"], "title": i["title"]} for i in self.issues if label in i["labels"]]
            )
        if command[:2] == ["issue", "create"]:
            number = len(self.issues) + 1
            labels = [command[i + 1] for i, a in enumerate(command) if a == "--label"]
            self.issues.append({"number": number, "title": command[command.index("--title") + 1], "labels": labels})
            return f"https://github.com/example/slipway/issues/{number}\n"
        return ""

    def named(self, *prefix: str) -> list[list[str]]:
        return [c for c in self.calls if c[: len(prefix)] == list(prefix)]


def test_first_alert_opens_an_issue_and_dispatches_retraining() -> None:
    gh = FakeGh()
    outcome = raise_alert("# report", "status: drift", ref="main", runner=gh)
    assert outcome.created and outcome.issue == 1 and outcome.dispatched
    assert len(gh.named("issue", "create")) == 1
    run = gh.named("workflow", "run")
    assert run == [
        [
            "workflow",
            "run",
            "retrain.yml",
            "-f",
            "trigger=monitor",
            "-f",
            "reason=status: drift",
            "-f",
            "issue=1",
            "--ref",
            "main",
        ]
    ]


def test_later_alerts_update_the_open_issue_instead_of_duplicating() -> None:
    gh = FakeGh([{"number": 7, "title": DEFAULT_TITLE, "labels": [DEFAULT_LABEL]}])
    outcome = raise_alert("# newer report", "status: kpi_breach", runner=gh)
    assert not outcome.created and outcome.issue == 7
    assert gh.named("issue", "create") == []
    assert gh.named("issue", "edit") == [["issue", "edit", "7", "--body", "# newer report"]]
    assert "kpi_breach" in gh.named("issue", "comment")[0][-1]


def test_an_issue_with_another_title_is_not_reused() -> None:
    gh = FakeGh([{"number": 3, "title": "Something else", "labels": [DEFAULT_LABEL]}])
    assert raise_alert("body", "s", dispatch=None, runner=gh).created
    assert gh.named("workflow", "run") == []


def test_lowest_matching_issue_wins() -> None:
    issues = [{"number": 9, "title": "T"}, {"number": 4, "title": "T"}, {"number": 2, "title": "U"}]
    assert find_alert_issue(issues, "T") == 4
    assert find_alert_issue([], "T") is None


def test_gh_failure_is_raised() -> None:
    def broken(command: Sequence[str]) -> str:
        raise RuntimeError("gh failed: HTTP 403")

    with pytest.raises(RuntimeError, match="403"):
        raise_alert("body", "s", runner=broken)
