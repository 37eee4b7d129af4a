"""A fresh clone reproduces the pipeline (the run's shared reproduced clone, and `make run` in one of its own); reruns
are minimal; experiments work. (slow: real dvc runs)"""

import json
import re
from pathlib import Path

import pytest
from support import VENV_BIN, fresh_clone, project_env, run

from slipway.artifact.digest import file_md5

pytestmark = pytest.mark.slow
MODEL = "outputs/model/model.skops"
VENV = VENV_BIN.parent


@pytest.fixture(scope="module")
def made_run(tmp_path_factory) -> tuple[Path, str]:
    """A fresh clone where `make run` ran: pull the data, `slipway repro`, show the metrics (read-only for tests),
    and what it printed.

    make uses the environment these tests run in (what `make setup` creates from the same lock): VENV names it
    and `-o` keeps make from re-syncing it.
    """
    repo = fresh_clone(tmp_path_factory.mktemp("made") / "repo")
    ran = run(["make", "run", f"VENV={VENV}", "-o", f"{VENV}/.synced"], repo, timeout=1800)
    return repo, ran.stdout + ran.stderr


@pytest.fixture(scope="module")
def made_clone(made_run: tuple[Path, str]) -> Path:
    return made_run[0]


def _metrics(repo):
    return json.loads((repo / "outputs/metrics.json").read_text())


def test_fresh_clone_produces_metrics_plots_and_a_model(repro_clone):
    metrics = _metrics(repro_clone)
    assert set(metrics) >= {"roc_auc", "pr_auc", "f1", "precision", "recall", "accuracy", "log_loss", "brier"}
    assert metrics["roc_auc"] > 0.75
    for plot in ("roc", "precision_recall", "confusion", "calibration", "importance"):
        assert (repro_clone / f"outputs/plots/{plot}.json").stat().st_size < 20_000
    meta = json.loads((repro_clone / "outputs/model/metadata.json").read_text())
    assert "git_commit" not in meta and meta["data"]["dataset_md5"].endswith(".dir")
    assert "scikit-learn" in meta["libraries"]
    shown = run(["dvc", "metrics", "show"], repro_clone).stdout
    assert "roc_auc" in shown


def test_committed_metrics_are_what_a_fresh_clone_reproduces(repro_clone):
    diff = run(["git", "diff", "--stat", "--", "outputs/metrics.json"], repro_clone).stdout
    assert diff == "", f"metrics differ from the committed ones:\n{diff}"


def test_committed_lock_is_in_sync_with_code_params_and_data(pulled_clone):
    """Every stage's recorded deps and params match the clone: only the (unstored) outputs are missing."""
    status = json.loads(run(["dvc", "status", "--json"], pulled_clone).stdout)
    changed = {
        stage: change
        for stage, entries in status.items()
        for entry in entries
        if isinstance(entry, dict)
        for kind in ("changed deps", "changed params", "changed command")
        for change in [entry.get(kind)]
        if change and (kind != "changed deps" or any(v != "deleted" for v in change.values()))
    }
    assert not changed, f"dvc.lock is stale, run `dvc repro` and commit it: {changed}"


def test_make_run_in_a_fresh_clone_leaves_git_status_clean(made_clone):
    """The reproduced dvc.lock, metrics, plots, reports and reference profile are byte for byte the committed ones."""
    status = run(["git", "status", "--porcelain"], made_clone).stdout
    diff = run(["git", "diff", "HEAD"], made_clone).stdout
    assert status == "", f"`make run` changed tracked files in a fresh clone:\n{status}\n{diff[:3000]}"


def test_make_run_runs_every_stage_in_the_stage_host(made_run: tuple[Path, str]) -> None:
    """The same outputs as `dvc repro` (the test above: byte for byte the committed ones), each stage in a fork of
    one host that imported the libraries once."""
    output = made_run[1]
    ran = re.findall(r"Running stage '(\w+)'", output)
    assert {"validate", "prepare", "train", "evaluate"} <= set(ran), output[-3000:]  # reference may come from the cache
    for stage in ran:
        assert f"stage host: pipelines/{stage}.py runs in a fork of the host" in output, output[-3000:]


def test_second_fresh_clone_is_identical(repro_clone, made_clone):
    assert _metrics(made_clone) == _metrics(repro_clone)
    for name in ("model.skops", "model.onnx", "metadata.json"):
        assert file_md5(made_clone / "outputs/model" / name) == file_md5(repro_clone / "outputs/model" / name)


FAULT = """
import sys
from pathlib import Path

if sys.argv[0].endswith("pipelines/train.py"):
    import slipway.artifact.persistence

    def save_model(model, path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(b"\\0half a model")
        raise OSError(28, "No space left on device")

    slipway.artifact.persistence.save_model = save_model
"""


def test_a_failed_dvc_repro_leaves_no_half_written_model(reproduced_clone, tmp_path):
    """`dvc repro` deletes a stage's outputs before running it: a train that fails after writing part of the
    model leaves no model folder at all (nor any partial one), dvc.lock as it was, and `dvc checkout` brings
    back the good one."""
    repo = reproduced_clone
    run(["dvc", "repro", "train"], repo)  # up to date: the outputs are there
    good = {path.name: file_md5(path) for path in (repo / "outputs/model").iterdir()}
    lock = (repo / "dvc.lock").read_bytes()
    inject = tmp_path / "inject"
    inject.mkdir()
    (inject / "sitecustomize.py").write_text(FAULT)  # loaded by every Python started with this PYTHONPATH
    env = project_env(repo, PYTHONPATH=f"{inject}:{repo / 'src'}")
    failed = run(["dvc", "repro", "--force", "--single-item", "train"], repo, check=False, env=env)
    assert failed.returncode != 0 and "No space left on device" in failed.stdout + failed.stderr
    assert not (repo / "outputs/model").exists()
    assert sorted(path.name for path in (repo / "outputs").iterdir() if ".partial" in path.name) == []
    assert (repo / "dvc.lock").read_bytes() == lock
    run(["dvc", "checkout", "outputs/model"], repo)
    assert {path.name: file_md5(path) for path in (repo / "outputs/model").iterdir()} == good


def test_second_repro_is_a_no_op(repro_clone):
    before = file_md5(repro_clone / MODEL)
    output = run(["dvc", "repro"], repro_clone).stdout
    assert "Running stage" not in output
    assert "up to date" in output
    assert file_md5(repro_clone / MODEL) == before


def test_changing_a_train_param_reruns_train_and_evaluate_only(repro_clone):
    output = run(["dvc", "exp", "run", "-S", "train.model=hgb"], repro_clone).stdout
    ran = {line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage")}
    assert ran == {"train", "evaluate"}
    shown = run(["dvc", "exp", "show", "--no-pager", "--csv"], repro_clone).stdout
    assert "hgb" in shown and "logreg" in shown
