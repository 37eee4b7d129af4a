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

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from slipway.adapters.commands import child_env, run_command
from slipway.adapters.http import NotReady, free_port, http_json, wait_ready
from slipway.config import Config, load_config
from slipway.data.generator import ChurnSettings, generate_churn
from slipway.monitoring.labels import record_labels
from slipway.monitoring.report import run_monitor, write_report

SHIFT = {"age": 0.5, "support_calls": 0.5}
PAYMENT_MIX = {"electronic-check": 0.6, "mailed-check": 0.1, "bank-transfer": 0.15, "credit-card": 0.15}
READY_SECONDS = 60.0


def say(message: str) -> None:
    print(f"\n==> {message}", flush=True)


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    return run_command(command, cwd, env=env).stdout


@contextlib.contextmanager
def serving(root: Path, prediction_log: Path, model_dir: Path | None = None) -> Iterator[str]:
    """``slipway serve`` (the workspace model, or ``model_dir``) on a free loopback port with the prediction log
    on, for the block; yields its base URL. The server gets no secret of this environment; its output goes to
    ``server.log`` next to the prediction log. NotReady (with the log's tail) when it does not become ready."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "slipway.cli",
        "serve",
        "--port",
        str(port),
        "--prediction-log",
        str(prediction_log),
    ]
    command += ["--model-dir", str(model_dir)] if model_dir else []
    prediction_log.mkdir(parents=True, exist_ok=True)
    log_file = prediction_log.parent / "server.log"
    with log_file.open("ab") as log:
        server = subprocess.Popen(command, cwd=root, env=child_env(), stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    try:
        try:
            wait_ready(base, READY_SECONDS, alive=lambda: server.poll() is None)
        except NotReady as error:
            tail = log_file.read_text(errors="replace")[-1500:]
            raise NotReady(f"{error}\n--- server log (tail)\n{tail}") from None
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def send_traffic(base: str, frame: pd.DataFrame, features: list[str], id_column: str | None) -> pd.DataFrame:
    """One request per record, as clients would send them; returns request ids next to the rows' truth."""
    columns = [*features, *([id_column] if id_column else [])]
    records = frame[columns].astype(object).where(frame[columns].notna(), None).to_dict("records")
    ids = []
    for record in records:
        status, answer = http_json(f"{base}/predict", record, timeout=30)
        if status != 200 or not isinstance(answer, dict):
            raise RuntimeError(f"POST {base}/predict answered {status or 'nothing'}: {answer}")
        ids.append(answer["request_id"])
    return pd.DataFrame({"request_id": ids, "record": 0, "label": frame["churned"].to_numpy()})


def drifted_period(rows: int) -> pd.DataFrame:
    """The period the story sends: older customers, more support calls, more electronic checks."""
    settings = ChurnSettings(
        rows=rows,
        seed=2026,
        id_offset=90_000_000,
        numeric_shift=SHIFT,
        category_weights={"payment_method": PAYMENT_MIX},
    )
    return generate_churn(settings)


def _git_env() -> dict[str, str]:
    """Commands' environment: the current one, with a committer for the retraining commit when none is set."""
    env = dict(os.environ)
    env.setdefault("GIT_AUTHOR_NAME", "Slipway simulate")
    env.setdefault("GIT_AUTHOR_EMAIL", "simulate@slipway.invalid")
    env.setdefault("GIT_COMMITTER_NAME", env["GIT_AUTHOR_NAME"])
    env.setdefault("GIT_COMMITTER_EMAIL", env["GIT_AUTHOR_EMAIL"])
    return env


def _ensure_model(root: Path, config: Config, env: dict[str, str]) -> None:
    if not (root / "outputs/model/model.skops").exists() or not Path(config.monitor.reference).exists():
        say("no trained model or reference profile yet: dvc pull data.dvc && dvc repro train reference")
        _run(["dvc", "pull", "data.dvc"], root, env)
        _run(["dvc", "repro", "train", "reference"], root, env)  # evaluate is not needed to serve


def main(rows: int = 2000) -> int:
    root = Path.cwd()
    config = load_config(root / "params.yaml")
    work = root / "outputs" / "simulate"
    shutil.rmtree(work, ignore_errors=True)
    logs, labels, report = work / "logs", work / "labels", work / "report"
    env = _git_env()
    _ensure_model(root, config, env)

    with serving(root, logs) as base:
        say(f"serving outputs/model on {base} (prediction log: {logs})")
        say(f"sending {rows:,} requests from a drifted period (shift {SHIFT}, more electronic checks)")
        started = time.monotonic()
        truth = send_traffic(base, drifted_period(rows), config.features.all, config.data.id_column)
        print(f"{rows:,} requests in {time.monotonic() - started:.1f} s")

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
