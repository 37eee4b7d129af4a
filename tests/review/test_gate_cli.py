"""`slipway gate` against a base branch: exit 0 on pass and on inconclusive (with a warning line), 1 on fail; the
point mode is the gate of values. The base here has metrics and intervals but no per-row predictions, so the
change's interval combines both revisions' intervals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from support import project_env, run
from support.demo import DEMO_PARAMS

pytestmark = pytest.mark.slow  # starts processes or servers

BASE_METRICS = {"roc_auc": 0.81, "pr_auc": 0.64, "f1": 0.56, "log_loss": 0.48, "brier": 0.16}
HALF = {"pr_auc": 0.005, "f1": 0.005, "log_loss": 0.005, "brier": 0.002}
"""Half-widths of the 95 % intervals, narrow enough for an unchanged metric to pass; roc_auc's is set by each test."""


def _intervals(metrics: dict[str, float], roc_auc_half: float) -> dict:
    half = HALF | {"roc_auc": roc_auc_half}
    rows = {name: {"value": v, "low": v - half[name], "high": v + half[name]} for name, v in metrics.items()}
    return {"level": 0.95, "resamples": 1000, "seed": 42, "rows": 2000, "metrics": rows}


def _write(repo: Path, metrics: dict[str, float], half: float) -> None:
    """This revision's metrics.json and intervals.json (roc_auc's interval ± ``half``)."""
    (repo / "outputs").mkdir(exist_ok=True)
    (repo / "outputs" / "metrics.json").write_text(json.dumps(metrics))
    (repo / "outputs" / "intervals.json").write_text(json.dumps(_intervals(metrics, half)))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository whose main has metrics and intervals, checked out on a pull-request branch."""
    root = tmp_path / "repo"
    root.mkdir()
    env = project_env(root)
    run(["git", "init", "-q", "-b", "main"], root, env=env)
    (root / "params.yaml").write_text(DEMO_PARAMS.read_text())
    _write(root, BASE_METRICS, 0.01)
    run(["git", "add", "-A"], root, env=env)
    run(["git", "commit", "-qm", "main"], root, env=env)
    run(["git", "checkout", "-qb", "pr"], root, env=env)
    return root


def _gate(repo: Path, **env: str) -> tuple[int, str]:
    result = run(["slipway", "gate", "--base", "main"], repo, check=False, env=project_env(repo, **env))
    return result.returncode, result.stdout + result.stderr


def test_an_inconclusive_gate_passes_with_a_warning_and_a_clear_fail_exits_1(repo: Path) -> None:
    # roc_auc fell by 0.02 (more than the 0.01 allowed), but each side is only known to ±0.01: inconclusive
    _write(repo, BASE_METRICS | {"roc_auc": 0.79}, 0.01)
    code, out = _gate(repo, GITHUB_ACTIONS="true")
    assert code == 0, out
    assert out.startswith("gate INCONCLUSIVE (passes with a warning: 1 of 8 checks)\n  WARN roc_auc fell by 0.0200")
    assert (
        "\nwarning: inconclusive: roc_auc fell by 0.0200 (95% interval 0.0059 to 0.0341, unpaired on 2,000 rows)" in out
    )
    assert "\n::warning title=Quality gate inconclusive::roc_auc fell by 0.0200" in out
    assert "the base's per-row predictions are not available" in out
    # roc_auc fell by 0.06: the whole interval is beyond the allowance
    _write(repo, BASE_METRICS | {"roc_auc": 0.75}, 0.01)
    code, out = _gate(repo)
    assert code == 1 and out.startswith("gate FAILED (1 of 8 checks)\n  FAIL roc_auc fell by 0.0600"), out
    assert "worse than the allowed 0.01 with 95% confidence" in out and "::warning" not in out
    _write(repo, BASE_METRICS | {"roc_auc": 0.83}, 0.01)  # better, whatever the noise
    code, out = _gate(repo)
    assert code == 0 and out.startswith("gate PASSED\n") and "warning" not in out, out


def test_point_mode_compares_the_values_as_they_are(repo: Path) -> None:
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["gate"]["mode"] = "point"
    (repo / "params.yaml").write_text(yaml.safe_dump(params))
    _write(repo, BASE_METRICS | {"roc_auc": 0.79}, 0.01)
    code, out = _gate(repo)
    assert code == 1 and "FAIL roc_auc fell by 0.0200 (2.5%): 0.8100 -> 0.7900, more than the allowed 0.01" in out, out
