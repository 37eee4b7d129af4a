"""A stage that fails midway leaves its previous good output byte-identical.

Each stage script runs in-process on demo data in a scratch workspace; a fault is injected into one of its writers
with monkeypatch (the writer half-writes its file, then raises, as a full disk would).
"""

from __future__ import annotations

import importlib
import shutil
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pytest
import yaml
from support import tree_digest
from support.demo import DEMO_SCHEMA, demo_params
from typer.testing import CliRunner

from slipway.cli.app import app
from slipway.config import load_config

pytestmark = pytest.mark.slow  # starts processes or servers

STAGE_ORDER = ("validate", "prepare", "train", "evaluate", "reference")


class InjectedFault(OSError):
    pass


def _module(stage: str) -> ModuleType:
    return importlib.import_module(f"slipway.pipeline.{stage}")


def _run(stage: str, params: str = "params.yaml") -> Any:
    """Run one stage function in the current folder, as its script does."""
    return getattr(_module(stage), stage)(load_config(params))


def _half_writes_on_call(real: Callable[..., Any], call: int, path_arg: int) -> Callable[..., Any]:
    """``real``, except that its ``call``-th call writes part of a file at its path argument, then raises."""
    calls = 0

    def writer(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == call:
            path = Path(args[path_arg])
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"\x00partial")
            raise InjectedFault(f"no space left on device while writing {path}")
        return real(*args, **kwargs)

    return writer


@pytest.fixture(scope="module")
def good_workspace(tmp_path_factory: pytest.TempPathFactory, churn_frame: pd.DataFrame) -> Path:
    """A scratch workspace where every stage has run once and succeeded: the good outputs."""
    root = tmp_path_factory.mktemp("workspace")
    (root / "data").mkdir()
    churn_frame.to_csv(root / "data" / "churn.csv", index=False)
    raw = demo_params()
    raw["data"]["schema"] = str(DEMO_SCHEMA)
    (root / "params.yaml").write_text(yaml.safe_dump(raw))
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.chdir(root)
        for stage in STAGE_ORDER:
            assert not _run(stage), f"{stage} failed on good data"
    return root


@pytest.fixture
def workspace(good_workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the good workspace, as the current folder."""
    root = tmp_path / "workspace"
    shutil.copytree(good_workspace, root)
    monkeypatch.chdir(root)
    return root


def _outputs(root: Path) -> dict[str, str]:
    """Every file under outputs/ by content hash; hidden temporary folders would show up too."""
    return tree_digest(root / "outputs")


FAULTS = {
    # stage: (the module or class whose writer fails; the writer; which call fails; its path argument)
    "validate": (Path, "write_text", 2, 0),
    "prepare": (_module("prepare"), "write_table", 2, 1),
    "train": (_module("train"), "save_model", 1, 1),
    "evaluate": (_module("evaluate"), "write_json", 3, 1),
    "reference": (Path, "write_text", 1, 0),
}


@pytest.mark.parametrize("stage", STAGE_ORDER)
def test_a_stage_failing_midway_keeps_the_previous_output(
    stage: str, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target, name, call, path_arg = FAULTS[stage]
    before = _outputs(workspace)
    monkeypatch.setattr(target, name, _half_writes_on_call(getattr(target, name), call, path_arg))
    with pytest.raises(InjectedFault):
        _run(stage)
    assert _outputs(workspace) == before


def test_train_whose_onnx_export_fails_keeps_the_previous_model_folder(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new model (other params) is fitted and saved, then the export fails: the folder still holds the old one."""
    raw = yaml.safe_load(Path("params.yaml").read_text())
    raw["train"]["logreg"]["C"] = 0.01
    Path("other.yaml").write_text(yaml.safe_dump(raw))
    before = tree_digest(workspace / "outputs" / "model")

    def failing_export(*args: Any, **kwargs: Any) -> None:
        raise InjectedFault("the converter crashed")

    monkeypatch.setattr(_module("train"), "export_if_agrees", failing_export)
    with pytest.raises(InjectedFault):
        _run("train", "other.yaml")
    assert tree_digest(workspace / "outputs" / "model") == before
    monkeypatch.undo()
    monkeypatch.chdir(workspace)
    _run("train", "other.yaml")  # without the fault, the new model replaces the old
    assert tree_digest(workspace / "outputs" / "model")["model.skops"] != before["model.skops"]


def test_reference_profile_verb_failing_midway_keeps_the_previous_profile(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = workspace / "profiles" / "profile.json"
    args = ["reference-profile", "--out", str(profile)]
    assert CliRunner().invoke(app, args).exit_code == 0
    before = profile.read_bytes()
    monkeypatch.setattr(Path, "write_text", _half_writes_on_call(Path.write_text, 1, 0))
    result = CliRunner().invoke(app, args)
    assert isinstance(result.exception, InjectedFault)
    assert profile.read_bytes() == before
    assert [path.name for path in profile.parent.iterdir()] == ["profile.json"]
