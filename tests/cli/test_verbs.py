"""The verbs' one error style: an expected failure is one line ``<verb>: <message>`` on stderr, secrets masked,
with the verb's documented exit code; bad options exit 2."""

from __future__ import annotations

import importlib
import secrets
import shutil
from pathlib import Path

import pytest
from support import REPO_ROOT, project_env, run
from typer.testing import CliRunner

from slipway.cli.app import app
from slipway.cli.root import EXPECTED_FAILURES, is_expected

TOKEN = "ghs_" + secrets.token_hex(20)


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project folder with the project's params.yaml, as the current directory."""
    shutil.copy(REPO_ROOT / "params.yaml", tmp_path / "params.yaml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _one_line(output: str) -> str:
    lines = output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in output, output
    return lines[0]


def test_a_library_failure_is_one_line_naming_the_verb(folder: Path) -> None:
    result = CliRunner().invoke(app, ["verify-lock"])
    assert result.exit_code == 1
    assert _one_line(result.output).startswith(f"verify-lock: dvc status in {folder}: ")


def test_no_secret_reaches_the_error_line(folder: Path) -> None:
    source = f"{folder}/bucket/{TOKEN}/logs"  # a secret that ended up in a path (or a URL) a verb was given
    result = CliRunner().invoke(app, ["fetch-logs", "--predictions", source], env={"GITHUB_TOKEN": TOKEN})
    assert result.exit_code == 1
    line = _one_line(result.output)
    assert line.startswith(f"fetch-logs: cannot fetch {folder}/bucket/***/logs: ") and TOKEN not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ingest", "--shift", "{age: 1"], "ingest: --shift is not JSON: "),
        (["adopt", "table.csv", "--target", "y", "--task", "ranking"], "adopt: --task must be auto, binary, "),
        (["adopt", "table.csv"], "adopt: give the table and --target COLUMN"),
        (["template-update", "--conflict", "both"], "template-update: --conflict must be inline or rej"),
    ],
)
def test_bad_options_exit_2_in_one_line(folder: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert _one_line(result.output).startswith(message)


def test_an_unknown_stage_is_a_usage_error(folder: Path) -> None:
    run(["git", "init", "-q", "-b", "main"], folder, env=project_env(folder))
    result = CliRunner().invoke(app, ["deploy", "--stage", "nope", "--version", "v0.1.0"])
    assert result.exit_code == 2
    assert _one_line(result.output) == "deploy: unknown stage 'nope'; params.yaml deploy.stages has staging, prod"


def test_a_missing_step_says_which_step_comes_first(folder: Path) -> None:
    result = CliRunner().invoke(app, ["template-pr"])
    assert result.exit_code == 1
    line = _one_line(result.output)
    assert line.startswith("template-pr: build/template-update holds no prepared update (run `slipway template-update`")
    result = CliRunner().invoke(app, ["monitor", "--reference", "missing/reference.json"])
    assert result.exit_code == 1
    assert _one_line(result.output).startswith("monitor: ")


@pytest.mark.parametrize("name", sorted(EXPECTED_FAILURES))
def test_every_expected_failure_names_an_exception_the_library_has(name: str) -> None:
    module, _, kind = name.rpartition(".")
    found = getattr(importlib.import_module(module), kind)
    assert issubclass(found, Exception) and is_expected(found.__new__(found))
    assert not is_expected(RuntimeError("x")) and not is_expected(KeyError("x"))
