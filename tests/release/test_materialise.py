"""Materialising a registered version: every file of the model folder is checked against its registration, so a
tampered ``model.onnx`` or ``input_schema.yaml`` in a release source (workspace, DVC cache or remote, rebuild) is
refused with a message naming the file, and is never what a stage serves."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support import project_env, run

from slipway.artifact.digest import file_md5
from slipway.artifact.folder import folder_digests
from slipway.release.materialise import Materialiser, artifact_path, folder_problems
from slipway.release.registry import Version
from slipway.release.targets.base import DeployError

DVC_YAML = "artifacts:\n  model:\n    path: outputs/model/model.skops\n    type: model\n"


class OneVersion:
    """A registry holding one version (what ``Registry.get`` returns for it)."""

    artifact = "model"

    def __init__(self, version: Version) -> None:
        self.version = version

    def get(self, version: str) -> Version:
        assert version == self.version.version
        return self.version


def _model_folder(folder: Path, onnx: bool = True) -> Path:
    folder.mkdir(parents=True)
    (folder / "model.skops").write_bytes(b"skops archive bytes")
    (folder / "input_schema.yaml").write_text("columns:\n  age: {dtype: int64, checks: {ge: 18}}\n")
    (folder / "metadata.json").write_text('{"git_commit": "0123abcd"}\n')
    (folder / "onnx_check.json").write_text('{"agrees": true}\n')
    if onnx:
        (folder / "model.onnx").write_bytes(b"onnx graph bytes")
    return folder


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository declaring the model artifact, with the registered model folder in its workspace."""
    root = tmp_path / "repo"
    root.mkdir()
    env = project_env(root)
    run(["git", "init", "-q", "-b", "main"], root, env=env)
    (root / "dvc.yaml").write_text(DVC_YAML)
    run(["git", "add", "-A"], root, env=env)
    run(["git", "commit", "-q", "-m", "artifact"], root, env=env)
    _model_folder(root / "outputs" / "model")
    return root


def _registered(repo: Path, files: bool = True) -> Version:
    folder = repo / "outputs" / "model"
    commit = run(["git", "rev-parse", "HEAD"], repo).stdout.strip()
    return Version("v0.1.0", commit, file_md5(folder / "model.skops"), (), folder_digests(folder) if files else {})


def _materialiser(repo: Path, version: Version, sources: dict[str, Path | None]) -> tuple[Materialiser, list[str]]:
    """A materialiser whose DVC and rebuild sources copy the given folders (None: that source fails)."""
    said: list[str] = []
    materialise = Materialiser(repo, OneVersion(version), repo / "deployments", log=said.append)  # type: ignore[arg-type]

    def copier(label: str):
        def copy(commit: str, path: str, dest: Path) -> None:
            source = sources.get(label)
            if source is None:
                raise RuntimeError(f"no {label} here")
            shutil.copytree(source, dest)

        return copy

    materialise._from_dvc = copier("DVC")  # type: ignore[method-assign]
    materialise._rebuild = copier("rebuild")  # type: ignore[method-assign]
    return materialise, said


def _served_files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in folder.iterdir() if path.name != "version.json"}


def test_the_registered_folder_comes_from_the_workspace_with_every_file(repo: Path) -> None:
    version = _registered(repo)
    assert set(version.files) == {"model.skops", "model.onnx", "input_schema.yaml"}
    materialise, said = _materialiser(repo, version, {})
    dest = materialise("v0.1.0")
    assert said == [f"v0.1.0: model folder from workspace -> {dest}"]
    assert _served_files(dest) == _served_files(repo / "outputs" / "model")
    assert materialise("v0.1.0") == dest and len(said) == 1  # already there and intact: nothing fetched again


@pytest.mark.parametrize("tampered", ["model.onnx", "input_schema.yaml"])
def test_a_tampered_file_in_the_dvc_source_is_refused_and_named(repo: Path, tmp_path: Path, tampered: str) -> None:
    version = _registered(repo)
    good = shutil.copytree(repo / "outputs" / "model", tmp_path / "good")
    bad = shutil.copytree(good, tmp_path / "bad")
    (bad / tampered).write_bytes((bad / tampered).read_bytes() + b"\nappended by an attacker")
    (repo / "outputs" / "model" / "model.skops").write_bytes(b"a newer model in the workspace")
    materialise, said = _materialiser(repo, version, {"DVC": bad, "rebuild": good})
    dest = materialise("v0.1.0")
    assert f"v0.1.0: the DVC model folder is not the registered one ({tampered} differs)" in said
    assert said[-1] == f"v0.1.0: model folder from rebuild -> {dest}"
    assert _served_files(dest) == _served_files(good)


def test_with_every_source_tampered_nothing_is_materialised_and_the_error_names_the_files(
    repo: Path, tmp_path: Path
) -> None:
    version = _registered(repo)
    bad_schema = shutil.copytree(repo / "outputs" / "model", tmp_path / "bad-schema")
    (bad_schema / "input_schema.yaml").write_text("columns: {}\n")
    bad_onnx = shutil.copytree(repo / "outputs" / "model", tmp_path / "bad-onnx")
    (bad_onnx / "model.onnx").write_bytes(b"another graph")
    (repo / "outputs" / "model" / "model.onnx").unlink()
    materialise, _ = _materialiser(repo, version, {"DVC": bad_schema, "rebuild": bad_onnx})
    with pytest.raises(DeployError) as refused:
        materialise("v0.1.0")
    assert str(refused.value) == (
        "cannot materialise model v0.1.0: no source has its model (refused workspace: model.onnx is missing; "
        "DVC: input_schema.yaml differs; rebuild: model.onnx differs)"
    )
    assert not (repo / "deployments" / "releases" / "v0.1.0").exists()


def test_an_onnx_file_the_registered_model_did_not_have_is_refused(repo: Path, tmp_path: Path) -> None:
    (repo / "outputs" / "model" / "model.onnx").unlink()
    version = _registered(repo)  # registered without an ONNX export: served by scikit-learn
    planted = shutil.copytree(repo / "outputs" / "model", tmp_path / "planted")
    (planted / "model.onnx").write_bytes(b"a graph the server would prefer")
    shutil.copy(planted / "model.onnx", repo / "outputs" / "model" / "model.onnx")
    materialise, said = _materialiser(repo, version, {"DVC": planted})
    with pytest.raises(DeployError, match=r"model\.onnx is not part of the registered model"):
        materialise("v0.1.0")
    assert "v0.1.0: the workspace model folder is not the registered one (model.onnx is not part of the " in said[0]


def test_a_tampered_release_folder_is_replaced_before_it_is_served(repo: Path) -> None:
    version = _registered(repo)
    materialise, said = _materialiser(repo, version, {})
    dest = materialise("v0.1.0")
    (dest / "model.onnx").write_bytes(b"changed after materialising")
    assert materialise("v0.1.0") == dest
    assert (dest / "model.onnx").read_bytes() == (repo / "outputs" / "model" / "model.onnx").read_bytes()
    assert len(said) == 2


def test_versions_registered_before_folders_were_digested_check_the_model_file_only(repo: Path) -> None:
    version = _registered(repo, files=False)
    assert version.files == {}
    (repo / "outputs" / "model" / "input_schema.yaml").write_text("columns: {}\n")
    materialise, _ = _materialiser(repo, version, {})
    assert (materialise("v0.1.0") / "input_schema.yaml").read_text() == "columns: {}\n"
    (repo / "outputs" / "model" / "model.skops").write_bytes(b"another model")
    shutil.rmtree(repo / "deployments")
    with pytest.raises(DeployError, match=r"workspace: model\.skops differs"):
        materialise("v0.1.0")


def test_folder_problems_name_each_file() -> None:
    registered = Version("v1.0.0", "c", "a" * 32, (), {"model.skops": "a" * 32, "input_schema.yaml": "b" * 32})
    found = {"model.skops": "a" * 32, "input_schema.yaml": "b" * 32}
    assert folder_problems(found, registered, "model.skops") == []
    assert folder_problems({**found, "extra": ""}, registered, "model.skops") == [
        "extra is not part of the registered model"
    ]
    assert folder_problems({"model.skops": "a" * 32}, registered, "model.skops") == ["input_schema.yaml is missing"]
    assert folder_problems({"input_schema.yaml": "b" * 32}, registered, "model.skops") == ["model.skops is missing"]


def test_the_artifact_path_at_a_revision_without_dvc_yaml_is_named(repo: Path) -> None:
    env = project_env(repo)
    assert artifact_path(repo, "model", "HEAD") == "outputs/model/model.skops"
    run(["git", "rm", "-q", "dvc.yaml"], repo, env=env)
    run(["git", "commit", "-q", "-m", "no pipeline"], repo, env=env)
    head = run(["git", "rev-parse", "HEAD"], repo, env=env).stdout.strip()
    with pytest.raises(DeployError, match=rf"^{head[:12]} has no dvc\.yaml, so no artifact 'model'$"):
        artifact_path(repo, "model", head)
    with pytest.raises(DeployError, match=r"^the workspace has no dvc\.yaml"):
        artifact_path(repo, "model")
    assert artifact_path(repo, "model", "HEAD~1") == "outputs/model/model.skops"
