"""A fresh clone reproduces the pipeline; reruns are minimal; experiments work. (slow: real dvc runs)"""

import json

import pytest
from support import fresh_clone, reproduced_clone, run

from slipway.provenance import file_md5

pytestmark = pytest.mark.slow
MODEL = "outputs/model/model.skops"


def _metrics(repo):
    return json.loads((repo / "outputs/metrics.json").read_text())


def test_fresh_clone_produces_metrics_plots_and_a_model(repro_clone):
    metrics = _metrics(repro_clone)
    assert set(metrics) >= {"roc_auc", "pr_auc", "f1", "precision", "recall", "accuracy", "log_loss", "brier"}
    assert metrics["roc_auc"] > 0.75
    for plot in ("roc", "precision_recall", "confusion", "calibration", "importance"):
        assert (repro_clone / f"outputs/plots/{plot}.json").stat().st_size < 20_000
    meta = json.loads((repro_clone / "outputs/model/metadata.json").read_text())
    assert meta["git_commit"] and meta["data"]["dataset_md5"].endswith(".dir")
    assert "scikit-learn" in meta["libraries"]
    shown = run(["dvc", "metrics", "show"], repro_clone).stdout
    assert "roc_auc" in shown


def test_committed_metrics_are_what_a_fresh_clone_reproduces(repro_clone):
    diff = run(["git", "diff", "--stat", "--", "outputs/metrics.json"], repro_clone).stdout
    assert diff == "", f"metrics differ from the committed ones:\n{diff}"


def test_committed_lock_is_in_sync_with_code_params_and_data(tmp_path):
    """Every stage's recorded deps and params match the clone: only the (unstored) outputs are missing."""
    repo = fresh_clone(tmp_path / "repo")
    run(["dvc", "pull", "-q", "data.dvc"], repo)
    status = json.loads(run(["dvc", "status", "--json"], repo).stdout)
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


def test_second_fresh_clone_is_identical(repro_clone, tmp_path):
    other = reproduced_clone(tmp_path / "again")
    assert _metrics(other) == _metrics(repro_clone)
    assert file_md5(other / MODEL) == file_md5(repro_clone / MODEL)


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
