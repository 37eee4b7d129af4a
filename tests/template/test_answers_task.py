"""The Copier task that writes the answers into params.yaml and .dvc/config (.copier/answers.py): one line changes
per answer, YAML reads the answer back exactly, a second run changes nothing, a bad answer is one line and no edit."""

from __future__ import annotations

import configparser
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from support import REPO_ROOT
from support.budgets import examples

SCRIPT = REPO_ROOT / ".copier" / "answers.py"
_spec = importlib.util.spec_from_file_location("copier_answers", SCRIPT)
answers = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(answers)  # type: ignore[union-attr]

PARAMS = (REPO_ROOT / "params.yaml").read_text()
DVC_CONFIG = (REPO_ROOT / ".dvc" / "config").read_text()


def _changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    old, new = before.split("\n"), after.split("\n")
    assert len(old) == len(new)
    return [(a, b) for a, b in zip(old, new, strict=True) if a != b]


def test_an_answer_changes_its_one_line_and_keeps_the_comment():
    after = answers.set_yaml_value(PARAMS, ("deploy", "image"), "ghcr.io/acme/churn-model")
    [(before_line, after_line)] = _changed_lines(PARAMS, after)
    assert before_line.split("#")[1] == after_line.split("#")[1]
    assert before_line.index("#") == after_line.index("#")  # the comment stays in its column
    assert yaml.safe_load(after)["deploy"]["image"] == "ghcr.io/acme/churn-model"


def test_the_default_answer_leaves_params_yaml_as_it_is():
    current = yaml.safe_load(PARAMS)
    text = answers.set_yaml_value(PARAMS, ("deploy", "image"), current["deploy"]["image"])
    assert answers.set_yaml_value(text, ("report", "title"), current["report"]["title"]) == PARAMS


one_line = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=60).filter(
    lambda s: s.strip()
)


@settings(max_examples=examples(300), deadline=None)
@given(value=one_line)
def test_any_one_line_answer_reads_back_exactly_and_touches_nothing_else(value):
    after = answers.set_yaml_value(PARAMS, ("report", "title"), value)
    assert yaml.safe_load(after)["report"]["title"] == value
    assert len(_changed_lines(PARAMS, after)) <= 1
    assert answers.set_yaml_value(after, ("report", "title"), value) == after  # idempotent


def test_a_key_that_is_not_there_is_named():
    with pytest.raises(answers.AnswerError, match=r"no key deploy\.registry"):
        answers.set_yaml_value(PARAMS, ("deploy", "registry"), "x")
    with pytest.raises(answers.AnswerError, match=r"no key title"):
        answers.set_yaml_value(PARAMS, ("title",), "x")  # only report.title exists, nested


@pytest.mark.parametrize(
    ("answer", "stored"),
    [
        ("dvc-storage", "../dvc-storage"),
        ("storage/remote", "../storage/remote"),
        ("../shared-remote", "../../shared-remote"),
        ("s3://bucket/slipway", "s3://bucket/slipway"),
        ("/srv/dvc", "/srv/dvc"),
    ],
)
def test_the_remote_answer_is_stored_as_dvc_remote_add_would(answer, stored):
    after = answers.set_dvc_remote_url(DVC_CONFIG, answers.dvc_url(answer))
    config = configparser.ConfigParser()
    config.read_string(after)
    assert config.get("'remote \"embedded\"'", "url") == stored
    assert config.get("core", "remote") == "embedded"


def test_the_default_remote_answer_leaves_the_config_as_it_is():
    assert answers.set_dvc_remote_url(DVC_CONFIG, answers.dvc_url("dvc-storage")) == DVC_CONFIG


def _project(tmp_path: Path) -> Path:
    (tmp_path / ".dvc").mkdir()
    shutil.copy(REPO_ROOT / "params.yaml", tmp_path / "params.yaml")
    shutil.copy(REPO_ROOT / ".dvc" / "config", tmp_path / ".dvc" / "config")
    return tmp_path


def _task(root: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *arguments], cwd=root, capture_output=True, text=True)


def test_the_task_writes_each_answer_once_and_a_second_run_changes_nothing(tmp_path):
    root = _project(tmp_path)
    given_answers = ["image_repository=ghcr.io/acme/churn", "report_title=Churn: weekly", "dvc_remote_url=s3://b/p"]
    first = _task(root, *given_answers)
    assert first.returncode == 0, first.stderr
    assert first.stdout.split("\n")[:2] == ["answers: wrote params.yaml", "answers: wrote .dvc/config"]
    params = yaml.safe_load((root / "params.yaml").read_text())
    assert params["deploy"]["image"] == "ghcr.io/acme/churn" and params["report"]["title"] == "Churn: weekly"
    assert "url = s3://b/p" in (root / ".dvc" / "config").read_text()
    snapshot = {p: p.read_bytes() for p in (root / "params.yaml", root / ".dvc" / "config")}
    second = _task(root, *given_answers)
    assert second.returncode == 0 and second.stdout == ""
    assert {p: p.read_bytes() for p in snapshot} == snapshot


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["colour=blue"], "unknown answer 'colour=blue'"),
        (["report_title"], "expected name=value"),
        (["report_title=two\nlines"], "report_title: the answer must be one non-empty line"),
        (["dvc_remote_url=s3://b/p #x"], "without spaces, quotes or '#'"),
    ],
)
def test_a_bad_answer_is_one_line_and_changes_nothing(tmp_path, arguments, message):
    root = _project(tmp_path)
    before = {p: p.read_bytes() for p in (root / "params.yaml", root / ".dvc" / "config")}
    result = _task(root, *arguments)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert {p: p.read_bytes() for p in before} == before
