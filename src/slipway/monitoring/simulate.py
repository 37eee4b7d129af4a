"""The monitoring story on one machine (`make simulate`): serve, drifted traffic, monitor alert, retraining branch.

1. serve the trained model (``slipway serve``) with the prediction log on, on a free loopback port;
2. send a drifted period as real HTTP requests (older customers, more support calls, more electronic checks);
3. record the ground truth for those requests (labels arriving later);
4. run the monitor on that log: the verdict, the report and the issue text the workflow would post;
5. retrain: the drifted period joins the data in a throw-away git worktree, ``dvc add`` + ``dvc push``, one
   commit on a new local branch ``retrain/…`` with the updated ``data.dvc`` (nothing is pushed anywhere).
Everything it writes is under ``outputs/simulate/`` except that branch.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pandas as pd

from slipway.adapters.commands import run_command
from slipway.config import load_config
from slipway.data.generator import ChurnSettings, generate_churn
from slipway.monitoring.labels import record_labels
from slipway.monitoring.report import run_monitor, write_report

SHIFT = {"age": 0.5, "support_calls": 0.5}
PAYMENT_MIX = {"electronic-check": 0.6, "mailed-check": 0.1, "bank-transfer": 0.15, "credit-card": 0.15}


def say(message: str) -> None:
    print(f"\n==> {message}", flush=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _post(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"content-type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _wait_ready(base: str, server: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/ready", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the server at {base} was not ready within {seconds:.0f} s")


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    return run_command(command, cwd, env=env).stdout


def send_traffic(base: str, frame: pd.DataFrame, features: list[str], id_column: str | None) -> pd.DataFrame:
    """One request per record, as clients would send them; returns request ids next to the rows' truth."""
    columns = [*features, *([id_column] if id_column else [])]
    records = frame[columns].astype(object).where(frame[columns].notna(), None).to_dict("records")
    ids = [_post(f"{base}/predict", record)["request_id"] for record in records]
    return pd.DataFrame({"request_id": ids, "record": 0, "label": frame["churned"].to_numpy()})


def main(rows: int = 2000) -> int:
    root = Path.cwd()
    config = load_config(root / "params.yaml")
    work = root / "outputs" / "simulate"
    shutil.rmtree(work, ignore_errors=True)
    logs, labels, report = work / "logs", work / "labels", work / "report"
    env = {**os.environ, "DVC_NO_ANALYTICS": "1", "ITERATIVE_DO_NOT_TRACK": "1"}
    env.setdefault("GIT_AUTHOR_NAME", "Slipway simulate")
    env.setdefault("GIT_AUTHOR_EMAIL", "simulate@slipway.invalid")
    env.setdefault("GIT_COMMITTER_NAME", env["GIT_AUTHOR_NAME"])
    env.setdefault("GIT_COMMITTER_EMAIL", env["GIT_AUTHOR_EMAIL"])

    if not (root / "outputs/model/model.skops").exists() or not Path(config.monitor.reference).exists():
        say("no trained model or reference profile yet: dvc pull data.dvc && dvc repro train reference")
        _run(["dvc", "pull", "data.dvc"], root, env)
        _run(["dvc", "repro", "train", "reference"], root, env)  # evaluate is not needed to serve

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    say(f"serving outputs/model on {base} (prediction log: {logs})")
    command = [sys.executable, "-m", "slipway.cli", "serve", "--port", str(port), "--prediction-log", str(logs)]
    server = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_ready(base, server)
        period = generate_churn(
            ChurnSettings(
                rows=rows,
                seed=2026,
                id_offset=90_000_000,
                numeric_shift=SHIFT,
                category_weights={"payment_method": PAYMENT_MIX},
            )
        )
        say(f"sending {rows:,} requests from a drifted period (shift {SHIFT}, more electronic checks)")
        started = time.monotonic()
        truth = send_traffic(base, period, config.features.all, config.data.id_column)
        print(f"{rows:,} requests in {time.monotonic() - started:.1f} s")
    finally:
        server.terminate()
        server.wait(timeout=30)

    say("labels arrive later: recording the ground truth of those requests")
    print(record_labels(labels, truth))

    say("monitoring the window against the training reference")
    result = run_monitor(logs, labels, Path(config.monitor.reference), config.monitor, config.evaluate.threshold)
    paths = write_report(result, report)
    print(result.summary())
    print(f"exit code {result.status.exit_code}; report {paths['report']} (+ {len(result.drifted)} PNGs)")
    if not result.status.alert:
        print("no alert: nothing to retrain")
        return result.status.exit_code
    say("the alert the monitor workflow would post as its one issue (then it dispatches retrain.yml):")
    print(paths["issue"].read_text())

    say("retraining: the drifted period joins the data on a new branch (in a temporary worktree)")
    branch = _retrain_branch(root, env, result.summary())
    say(f"done: branch {branch} updates data.dvc")
    print(_run(["git", "show", "--stat", "--format=%h %s", branch], root, env))
    print(f"next: git push origin {branch} && open a PR (retrain.yml does both on GitHub)")
    return 0


def _retrain_branch(root: Path, env: dict[str, str], reason: str) -> str:
    """Ingest and commit in a temporary worktree (the user's checkout stays as it is); the branch remains."""
    folder = Path(tempfile.mkdtemp(prefix="slipway-retrain-"))
    tree = folder / "tree"
    _run(["git", "worktree", "add", "-q", "--detach", str(tree), "HEAD"], root, env)
    try:
        slipway = [sys.executable, "-m", "slipway.cli"]
        tree_env = {**env, "PYTHONPATH": str(tree / "src")}
        _run(["dvc", "pull", "-q", "data.dvc"], tree, tree_env)
        shift = json.dumps(SHIFT)
        print(_run([*slipway, "ingest", "--source", "demo", "--shift", shift], tree, tree_env).strip())
        out = _run([*slipway, "retrain-pr", "--trigger", "simulate", "--reason", reason, "--no-push"], tree, tree_env)
        print(out.strip())
        return out.split()[1]  # "branch <name> at <commit>"
    finally:
        _run(["git", "worktree", "remove", "--force", str(tree)], root, env)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="the monitoring story locally")
    parser.add_argument("--rows", type=int, default=2000, help="requests from the drifted period")
    sys.exit(main(parser.parse_args().rows))
