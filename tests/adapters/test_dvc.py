"""An unreachable DVC remote is named with its URL (DVC itself says only that files are missing)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support import free_port, project_env, run

from slipway.adapters.dvc import remote_problem
from slipway.artifact.digest import file_md5
from slipway.release.materialise import Materialiser
from slipway.release.registry import Registry
from slipway.release.targets.base import DeployError

pytestmark = pytest.mark.slow  # starts processes or servers

DVC_YAML = """\
stages:
  train:
    cmd: mkdir -p outputs/model && cp data/rows.csv outputs/model/model.txt
    deps: [data]
    outs: [outputs/model]
artifacts:
  model:
    path: outputs/model/model.txt
    type: model
"""


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DVC project whose data and model were pushed to a local remote (``../storage``), v0.1.0 registered."""
    root = tmp_path_factory.mktemp("made")
    repo = root / "repo"
    repo.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        for key, value in project_env(repo).items():
            patch.setenv(key, value)
        run(["git", "init", "-q", "-b", "main"], repo)
        run(["dvc", "init", "-q"], repo)
        (repo / "data").mkdir()
        (repo / "data" / "rows.csv").write_text("a,b\n1,2\n")
        run(["dvc", "add", "-q", "data"], repo)
        (repo / "dvc.yaml").write_text(DVC_YAML)
        run(["dvc", "repro", "-q"], repo)
        run(["dvc", "remote", "add", "-d", "storage", "../storage"], repo)
        run(["dvc", "push", "-q"], repo)
        run(["git", "add", "-A"], repo)
        run(["git", "commit", "-q", "-m", "data and model"], repo)
        Registry(repo).register(file_md5(repo / "outputs" / "model" / "model.txt"))
    for gone in ("data", "outputs", ".dvc/cache"):
        shutil.rmtree(repo / gone)
    return root


@pytest.fixture
def project(made: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of that project as a fresh clone has it: neither the data, the model nor the DVC cache is here."""
    shutil.copytree(made, tmp_path, dirs_exist_ok=True)
    for key, value in project_env(tmp_path / "repo").items():
        monkeypatch.setenv(key, value)
    return tmp_path / "repo"


def _point_remote_at(repo: Path, url: str) -> None:
    run(["dvc", "remote", "modify", "storage", "url", url], repo)


def test_remote_problem_names_a_missing_folder_and_a_closed_port(project: Path, tmp_path: Path) -> None:
    assert remote_problem(project) is None  # the pushed remote is there
    _point_remote_at(project, "../moved-away")
    assert remote_problem(project) == (
        f"DVC remote 'storage' at {tmp_path / 'moved-away'} is unreachable: no such folder"
    )
    port = free_port()
    _point_remote_at(project, f"https://reader:s3cret-pass@127.0.0.1:{port}/dvc")
    problem = remote_problem(project)
    assert problem is not None and "s3cret-pass" not in problem
    assert problem.startswith(f"DVC remote 'storage' at https://***@127.0.0.1:{port}/dvc is unreachable: ")
    assert "refused" in problem.lower()


def test_verify_lock_names_the_unreachable_remote_instead_of_blaming_dvc_lock(project: Path, tmp_path: Path) -> None:
    _point_remote_at(project, "../moved-away")
    run(["dvc", "pull", "--allow-missing"], project)  # DVC: "Everything is up to date", exit 0
    result = run(["slipway", "verify-lock"], project, check=False)
    assert result.returncode == 1
    assert f"DVC remote 'storage' at {tmp_path / 'moved-away'} is unreachable: no such folder" in result.stderr
    assert "dvc.lock does not match" not in result.stderr

    port = free_port()
    _point_remote_at(project, f"http://127.0.0.1:{port}/dvc")
    result = run(["slipway", "check-remote"], project, check=False)
    assert result.returncode == 1
    assert result.stderr.startswith(
        f"check-remote: DVC remote 'storage' at http://127.0.0.1:{port}/dvc is unreachable: "
    )


def test_the_materialiser_says_which_dvc_remote_it_could_not_reach(project: Path, tmp_path: Path) -> None:
    _point_remote_at(project, "../moved-away")
    logged: list[str] = []
    materialise = Materialiser(project, Registry(project), tmp_path / "deployments", log=logged.append)
    with pytest.raises(DeployError, match=r"cannot materialise model v0\.1\.0"):
        materialise("v0.1.0")
    expected = f"DVC remote 'storage' at {tmp_path / 'moved-away'} is unreachable: no such folder"
    assert any(line.startswith("v0.1.0: not from DVC (") and expected in line for line in logged), logged
