"""`make simulate` end to end in a clone where the pipeline ran: real HTTP to `slipway serve`, the prediction log it
writes, labels, the monitor's drift verdict, and a local retraining branch whose commit updates data.dvc."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from support import project_env, run

pytestmark = pytest.mark.slow


def test_simulate_serves_alerts_and_leaves_a_retraining_branch(reproduced_clone: Path) -> None:
    repo = reproduced_clone
    env = project_env(repo)
    result = run([sys.executable, "-m", "slipway.monitoring.simulate", "--rows", "800"], repo, env=env, timeout=900)
    out = result.stdout
    assert "800 requests in" in out
    summary = json.loads((repo / "outputs/simulate/report/summary.json").read_text())
    assert summary["status"] == "drift"
    assert set(summary["drifted"]) == {"age", "support_calls", "payment_method"}
    assert summary["labelled_rows"] == 800  # every request's label joined back by request id
    logged = list((repo / "outputs/simulate/logs").glob("predictions-*.jsonl"))
    assert sum(len(p.read_text().splitlines()) for p in logged) == 800
    branches = run(["git", "branch", "--format=%(refname:short)"], repo, env=env).stdout.split()
    retrain = [b for b in branches if b.startswith("retrain/")]
    assert len(retrain) == 1, branches
    changed = run(["git", "diff", "--name-only", "main", retrain[0]], repo, env=env).stdout.split()
    assert "data.dvc" in changed
    # the retraining happened in a temporary worktree: this checkout's data and data.dvc are untouched
    # (`dvc repro`, which it runs where there is no model yet, may refresh dvc.lock)
    modified = run(["git", "status", "--porcelain", "--untracked-files=no"], repo, env=env).stdout.split("\n")
    assert not [line for line in modified if line.strip() and not line.endswith("dvc.lock")]
    assert run(["git", "worktree", "list"], repo, env=env).stdout.count("\n") == 1
