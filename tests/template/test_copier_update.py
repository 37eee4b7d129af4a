"""Slipway as a Copier template, end to end (slow): copy v0.1.0, make the project the team's own, update to v0.2.0.

The team's changes (a threshold in params.yaml, their own table through `slipway adopt`, a line in their README,
their own test) all survive the three-way merge, the template's change arrives, and the updated project reproduces
its pipeline and passes its checks.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from sklearn.datasets import load_breast_cancer
from support import VENV_BIN, git, project_env, run
from template.scratch import MAKEFILE_LINE, README_LINE, answers, copier_copy, status, update

pytestmark = pytest.mark.slow

TEAM_README = "Churn model of the Acme retention team."
TEAM_TEST = """import yaml


def test_our_target_is_the_diagnosis():
    assert yaml.safe_load(open("params.yaml"))["data"]["target"] == "diagnosis"
"""
SUBSET = [
    "tests/workflows/test_static_checks.py",  # every workflow, the template's and the team's, still valid
    "tests/test_docs.py",  # the merged README's and docs' links resolve (its runnable blocks are slow)
    "tests/test_template_update.py",  # the update verbs of the updated version
    "tests/test_adopt.py",
    "tests/test_lockcheck.py",
    "tests/test_ours.py",  # the team's own test
]
"""The fast tests that hold for a project on its own data. The template's other fast tests are written against the
demo data (their fixtures train on generated churn rows with the project's params.yaml), so after `slipway adopt`
they fail whether or not the project was ever updated."""


def _cancer_table(path: Path, rows: int = 300) -> Path:
    """A binary table of the team's own (scikit-learn's breast cancer data, offline), with an id and a category."""
    rng = np.random.default_rng(1)
    data = load_breast_cancer(as_frame=True)
    frame = data.frame.sample(rows, random_state=1).reset_index(drop=True)
    frame = frame[[*data.feature_names[:6], "target"]]
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    frame.insert(0, "case_id", [f"case-{i:04d}" for i in range(rows)])
    frame["clinic"] = rng.choice(["east", "west", "central"], rows)
    frame["diagnosis"] = np.where(frame.pop("target") == 1, "benign", "malignant")
    frame.to_csv(path, index=False)
    return path


def test_an_update_keeps_the_teams_changes_brings_the_templates_and_the_project_still_works(template, tmp_path):
    project = copier_copy(template, tmp_path / "project", "--data", "report_title=Churn report")
    # The team makes it theirs: their table, a threshold, a README line, a test of their own.
    run(["dvc", "pull", "-q", "data.dvc"], project)
    table = _cancer_table(tmp_path / "cancer.csv")
    run(["slipway", "adopt", str(table), "--target", "diagnosis", "--id", "case_id"], project)
    params = project / "params.yaml"
    assert "  threshold: 0.5 " in params.read_text()
    params.write_text(params.read_text().replace("  threshold: 0.5 ", "  threshold: 0.4 ", 1))
    readme = project / "README.md"
    readme.write_text(readme.read_text().replace("\n", f"\n\n{TEAM_README}\n", 1))
    (project / "tests" / "test_ours.py").write_text(TEAM_TEST)
    git(project, "add", "-A")
    git(project, "commit", "-qm", "Our data, our threshold")
    kept = ("schema.yaml", "data.dvc", "dvc.lock", "tests/test_ours.py")
    ours = {name: (project / name).read_bytes() for name in kept}

    update(project)

    assert answers(project)["_commit"] == "v0.2.0"
    assert status(project) == {".copier-answers.yml", "Makefile", "README.md", "params.yaml"}
    assert {name: (project / name).read_bytes() for name in ours} == ours
    config = yaml.safe_load(params.read_text())
    assert config["evaluate"]["threshold"] == 0.4  # the team's threshold
    assert config["data"]["target"] == "diagnosis" and "clinic" in config["features"]["categorical"]  # adopt's
    assert config["monitor"]["window_days"] == 14  # the template's new default
    assert config["report"]["title"] == "Churn report"  # the answer, kept
    assert TEAM_README in readme.read_text() and README_LINE in readme.read_text()
    assert (project / "Makefile").read_text().startswith(MAKEFILE_LINE)
    assert "<<<<<<<" not in git(project, "diff") and not list(project.rglob("*.rej"))
    git(project, "commit", "-qam", "Update the Slipway template to v0.2.0")

    run(["dvc", "repro"], project, timeout=1200)
    metrics = json.loads((project / "outputs" / "metrics.json").read_text())
    assert metrics["roc_auc"] > 0.8  # trained on the team's data
    env = project_env(project, VIRTUAL_ENV=str(VENV_BIN.parent))
    tests = run([str(VENV_BIN / "pytest"), "-m", "not slow", "-p", "no:randomly", "-q", *SUBSET], project, env=env)
    assert " passed" in tests.stdout and "failed" not in tests.stdout
