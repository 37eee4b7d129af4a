"""Pull requests against a fresh clone, and pr.yml run on them with act (shared by the test_pr_workflow_* files,
one file per scenario so that pytest-xdist's --dist loadfile runs them on different workers).

``share_main_outputs`` plays main.yml's part before a pull request is opened: with a DVC remote outside the
repository (a folder standing in for S3/GCS/Azure), main's pipeline runs and its outputs and run cache are pushed
(`make push-outputs`), so the pull request can restore every stage whose inputs it did not change. Main's pipeline
is this test run's reproduced clone's: its DVC cache linked in, `slipway repro` restores each stage from the run
cache as main.yml's own does when nothing changed, instead of training the same model again."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import yaml
from support import fresh_clone, link_dvc_cache, project_env, run
from support.clones import DVC_CACHE
from workflows.act_harness import SAVED_MYPY_CACHE, ActRun, pull_request_event, run_workflow

WORKFLOW = ".github/workflows/pr.yml"
WATERMARK = "--watermark-title=Slipway model report"
TESTS_IN_ACT = "-p no:cacheprovider tests/review/test_gate.py"
ORIGIN_URL = "https://github.com/example/slipway.git"


def share_main_outputs(main: Path, remote: Path, reproduced: Path) -> None:
    """Make ``remote`` main's default DVC remote (committed), push the data there, run the pipeline (restored from
    the DVC cache of ``reproduced``, a clone of the same commit with its pipeline reproduced) and push its outputs
    and run cache as main.yml does; commit the lock it wrote (a consistent main)."""
    link_dvc_cache(reproduced / DVC_CACHE, main)
    env = project_env(main)
    run(["dvc", "remote", "add", "-d", "shared", str(remote)], main, env=env)
    run(["dvc", "pull", "-q", "-r", "embedded", "data.dvc"], main, env=env)
    run(["slipway", "repro", "-q"], main, env=env)
    run(["dvc", "push", "-q", "--run-cache"], main, env=env)
    run(["git", "add", "-A"], main, env=env)
    run(["git", "commit", "-q", "-m", "Data in the shared remote; main's lock"], main, env=env)


def open_pull_request(
    tmp_path: Path, change: Callable[[Path], None], message: str, shared: tuple[Path, Path] | None = None
) -> Path:
    """A fresh clone with main as the base and a `feature` branch holding ``change``, checked out. With ``shared``
    (a remote folder, the test run's reproduced clone), main's outputs were pushed to that remote first
    (``share_main_outputs``, in a clone of its own, so nothing it computed is in the pull request's working tree)."""
    if shared is None:
        repo = fresh_clone(tmp_path / "repo")
    else:
        main = fresh_clone(tmp_path / "main-ci")
        share_main_outputs(main, *shared)
        repo = tmp_path / "repo"
        run(["git", "clone", "-q", str(main), str(repo)], tmp_path)
        run(["git", "remote", "set-url", "origin", ORIGIN_URL], repo)
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


def act(
    repo: Path,
    record: Path,
    head_repository: str | None = None,
    caches: dict[str, Path] | None = SAVED_MYPY_CACHE,
    uv_cache: Path | None = None,
) -> ActRun:
    """pr.yml for pull request 7 (``head_repository``: from a fork). ``caches``: what its cache steps restore
    (default: mypy's cache as main or an earlier push saved it; ``{}``: none, mypy type-checks cold); ``uv_cache``
    as ``run_workflow``'s."""
    event = pull_request_event(number=7, base="main", head="feature", head_repository=head_repository)
    return run_workflow(
        repo, WORKFLOW, "pull_request", event, record_dir=record, caches=caches, uv_cache=uv_cache,
        variables={"PR_PYTEST_ARGS": TESTS_IN_ACT},
    )  # fmt: skip


def uploaded_report(record: Path) -> str:
    """The report.md pr.yml uploaded as the `report` artifact (for pr-comment.yml to post)."""
    return (record / "artifacts" / "report" / "report.md").read_text()


def stages(output: str) -> tuple[set[str], set[str]]:
    """(stages that ran, stages restored from the DVC remote) as `dvc repro --pull` reported them."""
    ran = set(re.findall(r"Running stage '([a-z_]+)'", output))
    restored = set(re.findall(r"Pulling data for stage: '([a-z_]+)'", output)) - ran - {"data.dvc"}
    return ran, restored
