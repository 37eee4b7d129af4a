"""End to end in a fresh clone: main's per-row predictions come from the DVC remote, so a pull request on the same
test rows is compared paired; a new split is compared unpaired and says why; predictions missing from the remote
fall back to the two revisions' intervals. The evaluate stage's outputs are stood in for by in-process fits."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from review import known_cases as k
from support import project_env, run

from slipway.data.tables import read_table
from slipway.review.comparison import INTERVALS_PATH, PREDICTIONS_PATH, Revision

pytestmark = pytest.mark.slow


def _outputs(repo: Path, case: k.Case, **dotted: object) -> Revision:
    """Set params, fit, and write what the evaluate stage writes: metrics, intervals, per-row predictions."""
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params = k._with(params, dict(dotted))
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    revision = k.with_intervals(k.fit(case, k.config_of(case, **dotted)))
    assert revision.predictions is not None and revision.intervals is not None
    (repo / PREDICTIONS_PATH).parent.mkdir(parents=True, exist_ok=True)
    revision.predictions.to_parquet(repo / PREDICTIONS_PATH, index=False)
    (repo / "outputs" / "metrics.json").write_text(json.dumps(revision.metrics))
    (repo / INTERVALS_PATH).write_text(json.dumps(k.intervals_doc(revision.intervals, revision.metrics)))
    return revision


def _gate(repo: Path) -> tuple[int, str]:
    result = run(["slipway", "gate", "--base", "main"], repo, check=False)
    return result.returncode, result.stdout + result.stderr


def test_main_predictions_from_the_remote_pair_the_comparison(reproduced_clone: Path) -> None:
    repo = reproduced_clone
    env = project_env(repo)
    case = k.Case(read_table(repo / "data" / "churn.csv"), yaml.safe_load((repo / "params.yaml").read_text()))

    # main: its outputs pushed to the remote as main.yml pushes them, then gone from this checkout and its cache
    run(["dvc", "push", "-q"], repo)
    (predictions,) = [
        out for out in yaml.safe_load((repo / "dvc.lock").read_text())["stages"]["evaluate"]["outs"]
        if out["path"] == PREDICTIONS_PATH
    ]  # fmt: skip
    shutil.rmtree(repo / ".dvc" / "cache" / "files")
    (repo / PREDICTIONS_PATH).unlink()

    # a clearly worse model on the same rows: paired, fails
    run(["git", "checkout", "-qb", "worse"], repo, env=env)
    _outputs(repo, case, **{"train.logreg.C": 1e-5})
    code, out = _gate(repo)
    assert code == 1 and "gate FAILED" in out, out
    assert "FAIL roc_auc fell by" in out and "paired on 2,000 rows" in out
    reported = run(["slipway", "report", "--base", "main"], repo)
    assert "gate FAILED" in reported.stdout
    report = (repo / "report" / "report.md").read_text()
    assert "paired: both models scored on the same 2,000 test rows, so row-to-row noise cancels" in report
    assert "**Gate** ❌ failed: " in report and "| `roc_auc` | 0." in report and " ± 0.0" in report

    # another split: the base's model may have trained on these rows, so the comparison is unpaired
    _outputs(repo, case, **{"split.seed": 7})
    code, out = _gate(repo)
    assert code in (0, 1) and "unpaired: the split settings changed (`split.seed` 42 → 7)" in out, out
    assert ", paired on" not in out and ", unpaired on 2,000 rows" in out

    # main's predictions gone from the remote: the two revisions' intervals are combined
    _outputs(repo, case, **{"split.seed": 42})
    md5 = predictions["md5"]
    (repo / "dvc-storage" / "files" / "md5" / md5[:2] / md5[2:]).unlink()
    code, out = _gate(repo)
    assert code == 0, out
    assert "is neither in the DVC cache nor in the remote" in out
    assert "the change's interval combines both revisions' intervals" in out
