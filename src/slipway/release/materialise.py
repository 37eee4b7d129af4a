"""A registered version's model folder, checked file by file against its registry digests.

Sources, first that works: the release folder already there; the workspace; DVC at the version's commit (cache,
then remote); a rebuild of the train stage at that commit in a temporary worktree."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import yaml

from slipway.adapters.dvc import remote_problem
from slipway.adapters.git import show_file
from slipway.artifact.folder import folder_digests, write_release
from slipway.release.registry import Registry, Version, changed_files
from slipway.release.targets.base import DeployError, run_tool


def artifact_path(repo: Path, artifact: str, revision: str | None = None) -> str:
    """The artifact's file as declared in dvc.yaml ``artifacts:`` (e.g. ``outputs/model/model.skops``), in the
    workspace or at a revision."""
    where = "the workspace" if revision is None else revision[:12]
    text = show_file(revision, "dvc.yaml", repo) if revision is not None else _read(repo / "dvc.yaml")
    if text is None:
        raise DeployError(f"{where} has no dvc.yaml, so no artifact {artifact!r}")
    declared = (yaml.safe_load(text) or {}).get("artifacts") or {}
    if artifact not in declared:
        raise DeployError(f"dvc.yaml in {where} declares no artifact {artifact!r} (artifacts: {sorted(declared)})")
    return str(declared[artifact]["path"])


def _read(path: Path) -> str | None:
    return path.read_text() if path.is_file() else None


def _copy_model_dir(source: Path, dest: Path) -> None:
    staging = dest.with_name(dest.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(source, staging)
    shutil.rmtree(dest, ignore_errors=True)
    staging.rename(dest)


class Materialiser:
    """Puts a registered version's model folder in ``<directory>/releases/<version>``, every file checked against
    the digests its registration recorded (a differing, missing or extra file is refused, naming it). Sources,
    first that works: that folder already there; the workspace (when its model is the version's); DVC at the
    version's commit (local cache, then the DVC remote); a rebuild of the train stage at that commit in a temporary
    worktree (the model folder is byte-reproducible, so the digests prove it is the same)."""

    def __init__(self, repo: Path, registry: Registry, directory: Path, log: Callable[[str], None] = print) -> None:
        self.repo = repo
        self.registry = registry
        self.releases = directory / "releases"
        self.log = log

    @staticmethod
    def _problems(folder: Path, file_name: str, found: Version) -> list[str]:
        if not folder.is_dir():
            return [f"{folder} is not a folder"]
        return folder_problems(folder_digests(folder), found, file_name)

    def __call__(self, version: str) -> Path:
        found = self.registry.get(version)
        relative = artifact_path(self.repo, self.registry.artifact, found.commit)
        model_dir_rel, file_name = os.path.split(relative)
        dest = self.releases / version
        if not self._problems(dest, file_name, found):
            return dest
        dest.parent.mkdir(parents=True, exist_ok=True)
        sources: list[tuple[str, Callable[[Path], object]]] = [  # (what each returns is ignored)
            ("workspace", lambda tmp: shutil.copytree(self.repo / model_dir_rel, tmp)),
            ("DVC", lambda tmp: self._from_dvc(found.commit, model_dir_rel, tmp)),
            ("rebuild", lambda tmp: self._rebuild(found.commit, model_dir_rel, tmp)),
        ]
        refused: list[str] = []
        for label, fetch in sources:
            tmp = dest.with_name(f"{version}.{label}")
            shutil.rmtree(tmp, ignore_errors=True)
            try:
                fetch(tmp)
            except Exception as error:  # any failure: try the next source
                self.log(f"{version}: not from {label} ({str(error).strip().splitlines()[-1][:200] or error!r})")
                shutil.rmtree(tmp, ignore_errors=True)
                continue
            problems = self._problems(tmp, file_name, found)
            if not problems:
                write_release(tmp, version, found.commit, self.registry.artifact)
                _copy_model_dir(tmp, dest)
                shutil.rmtree(tmp, ignore_errors=True)
                self.log(f"{version}: model folder from {label} -> {dest}")
                return dest
            self.log(f"{version}: the {label} model folder is not the registered one ({', '.join(problems)})")
            refused.append(f"{label}: {', '.join(problems)}")
            shutil.rmtree(tmp, ignore_errors=True)
        detail = f" (refused {'; '.join(refused)})" if refused else ""
        raise DeployError(f"cannot materialise {self.registry.artifact} {version}: no source has its model{detail}")

    def _from_dvc(self, commit: str, path: str, dest: Path) -> None:
        from dvc.api import DVCFileSystem

        fs = DVCFileSystem(str(self.repo), rev=commit)
        try:
            fs.get(path, str(dest), recursive=True)
        except Exception as error:  # DVC says "failed to load directory" when its remote is not there: name it
            unreachable = remote_problem(self.repo)
            if unreachable:
                raise DeployError(unreachable) from error
            raise

    def _rebuild(self, commit: str, path: str, dest: Path) -> None:
        with tempfile.TemporaryDirectory(prefix="slipway-rebuild-") as scratch:
            tree = Path(scratch) / "tree"
            run_tool(["git", "worktree", "add", "--detach", "--quiet", str(tree), commit], self.repo)
            try:
                cache = run_tool(["dvc", "cache", "dir"], self.repo).strip()
                run_tool(["dvc", "config", "--local", "cache.dir", cache], tree)
                stage = _stage_producing(tree, path)
                if stage is None:
                    raise DeployError(f"no dvc.yaml stage at {commit[:12]} produces {path}")
                run_tool(["dvc", "repro", "--pull", stage], tree)
                shutil.copytree(tree / path, dest)
            finally:
                run_tool(["git", "worktree", "remove", "--force", str(tree)], self.repo, check=False)


def _stage_producing(repo: Path, path: str) -> str | None:
    stages = (yaml.safe_load((repo / "dvc.yaml").read_text()) or {}).get("stages") or {}
    for name, stage in stages.items():
        for out in stage.get("outs") or []:
            out_path = next(iter(out)) if isinstance(out, dict) else out
            if out_path == path:
                return name
    return None


def folder_problems(found: dict[str, str], registered: Version, model_file: str) -> list[str]:
    """How a model folder (its ``folder_digests``) differs from a registered version, one phrase per file naming
    it; [] when it is the one. A version registered before folders were digested: only its model file's md5."""
    if model_file not in found:
        return [f"{model_file} is missing"]
    if not registered.files:
        same = registered.model_md5 is None or found[model_file] == registered.model_md5
        return [] if same else [f"{model_file} differs"]
    expected = {**registered.files, **({model_file: registered.model_md5} if registered.model_md5 else {})}

    def problem(name: str) -> str:
        if name not in expected:
            return f"{name} is not part of the registered model"
        return f"{name} is missing" if name not in found else f"{name} differs"

    return [problem(name) for name in changed_files(found, expected)]
