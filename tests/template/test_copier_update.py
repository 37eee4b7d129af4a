"""Slipway as a Copier template, end to end (slow): copy v0.1.0, make the project the team's own, update to v0.2.0.

The team's changes (a threshold in params.yaml, their own table through `slipway adopt`, a line in their README,
their own test) all survive the three-way merge, the template's change arrives, and the updated project reproduces
its pipeline and passes the template's whole fast suite on its own data: the tests of the code use the demo's own
params and schema (tests/support/demo), and the tests of the data and model read the project's.
"""

from __future__ import annotations

import json

import pytest
import yaml
from support import REPO_ROOT, VENV_BIN, git, project_env, run
from support.tables import cancer_table
from template.scratch import MAKEFILE_LINE, README_LINE, answers, copier_copy, status, update

pytestmark = pytest.mark.slow

TEAM_README = "Churn model of the Acme retention team."
TEAM_TEST = """import yaml


def test_our_target_is_the_diagnosis():
    assert yaml.safe_load(open("params.yaml"))["data"]["target"] == "diagnosis"
"""


def test_an_update_keeps_the_teams_changes_brings_the_templates_and_the_project_still_works(template, tmp_path):
    project = copier_copy(template, tmp_path / "project", "--data", "report_title=Churn report")
    # The team makes it theirs: their table, a threshold, a README line, a test of their own.
    run(["dvc", "pull", "-q", "data.dvc"], project)
    table = tmp_path / "cancer.csv"
    cancer_table().to_csv(table, index=False)
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

    run(["slipway", "repro"], project, timeout=1200)
    metrics = json.loads((project / "outputs" / "metrics.json").read_text())
    assert metrics["roc_auc"] > 0.8  # trained on the team's data
    if (REPO_ROOT / ".tools").is_dir():  # kubectl, fetched once: the suite renders the Kubernetes overlays
        (project / ".tools").symlink_to(REPO_ROOT / ".tools")
    env = project_env(project, VIRTUAL_ENV=str(VENV_BIN.parent))
    command = [
        str(VENV_BIN / "pytest"),
        "-m",
        "not slow",
        "--hypothesis-profile=quick",
        "-rfE",
        "-p",
        "no:cacheprovider",
        "-n",
        "0",
        "-v",
    ]
    tests = run(command, project, env=env, check=False, timeout=1800)
    results = [line for line in tests.stdout.splitlines() if line.startswith("tests/") and "::" in line]
    assert tests.returncode == 0, "\n".join(line for line in results if "PASSED" not in line) + tests.stdout[-5_000:]
    assert "tests/test_ours.py::test_our_target_is_the_diagnosis PASSED" in tests.stdout  # the team's own test
    assert len({line.split("::")[0] for line in results}) > 30  # and the template's whole fast suite
