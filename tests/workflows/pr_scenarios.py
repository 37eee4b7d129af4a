"""Pull requests against a fresh clone, and pr.yml run on them with act (shared by the test_pr_workflow_* files,
one file per scenario so that pytest-xdist's --dist loadfile runs them on different workers)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import yaml
from support import fresh_clone, project_env, records, run
from workflows.act_harness import ActRun, pull_request_event, run_workflow

WORKFLOW = ".github/workflows/pr.yml"
WATERMARK = "--watermark-title=Slipway model report"
TESTS_IN_ACT = "-p no:cacheprovider tests/review/test_gate.py"


def open_pull_request(tmp_path: Path, change: Callable[[Path], None], message: str) -> Path:
    """A fresh clone with main as the base and a `feature` branch holding ``change``, checked out."""
    repo = fresh_clone(tmp_path / "repo")
    env = project_env(repo)
    run(["git", "checkout", "-q", "-b", "feature"], repo, env=env)
    change(repo)
    run(["git", "add", "-A"], repo, env=env)
    run(["git", "commit", "-q", "-m", message], repo, env=env)
    return repo


def set_params(**changes: object) -> Callable[[Path], None]:
    """Edit params.yaml by dotted keys, e.g. set_params(**{"train.logreg.C": 0.3})."""

    def change(repo: Path) -> None:
        params = yaml.safe_load((repo / "params.yaml").read_text())
        for key, value in changes.items():
            *parents, leaf = key.split(".")
            node = params
            for part in parents:
                node = node[part]
            node[leaf] = value
        (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))

    return change


def corrupt_data(repo: Path) -> None:
    """Ages out of range in 25 rows, committed the DVC way (dvc add + push to the embedded remote)."""
    env = project_env(repo)
    run(["dvc", "pull", "-q", "data.dvc"], repo, env=env)
    path = repo / "data" / "churn.csv"
    table = pd.read_csv(path)
    table.loc[:24, "age"] = 250
    table.to_csv(path, index=False)
    run(["dvc", "add", "-q", "data"], repo, env=env)
    run(["dvc", "push", "-q", "data.dvc"], repo, env=env)


def act(repo: Path, record: Path, head_repository: str | None = None) -> ActRun:
    event = pull_request_event(number=7, base="main", head="feature", head_repository=head_repository)
    return run_workflow(
        repo, WORKFLOW, "pull_request", event, record_dir=record, variables={"PR_PYTEST_ARGS": TESTS_IN_ACT}
    )


def posted_report(record: Path) -> tuple[dict, str]:
    """The one comment the recording cml received, and its markdown."""
    calls = records(record, "cml")
    assert len(calls) == 1, calls
    return calls[0], (Path(calls[0]["saved"]) / "report.md").read_text()
