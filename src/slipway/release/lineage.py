"""What a registered version was made from: its commit's dvc.lock (data hash), params and metrics, read from git
at that commit."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import yaml

from slipway.adapters.git import show_file
from slipway.release.registry import Registry


@dataclass(frozen=True)
class Lineage:
    """What a version was made from."""

    artifact: str
    version: str
    commit: str
    model_md5: str | None
    data: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    stages: tuple[str, ...] = ()

    def render(self) -> str:
        lines = [
            f"{self.artifact} {self.version}" + (f"  (stages: {', '.join(self.stages)})" if self.stages else ""),
            f"commit     {self.commit}",
            f"model md5  {self.model_md5 or 'unknown'}",
            "data",
            *[f"  {path}: {md5}" for path, md5 in self.data.items()],
            "params",
            *[f"  {line}" for line in yaml.safe_dump(self.params, sort_keys=False).splitlines()],
            "metrics",
            *[f"  {name}: {value}" for name, value in self.metrics.items()],
        ]
        return "\n".join(lines)


def lock_data_hashes(lock: dict[str, Any], data_root: str) -> dict[str, str]:
    """md5 of every dvc.lock dependency inside the raw-data folder (``data`` → ``23291a...dir``)."""
    found: dict[str, str] = {}
    for stage in (lock.get("stages") or {}).values():
        for dep in stage.get("deps") or []:
            path = dep.get("path", "")
            if (path == data_root or path.startswith(f"{data_root}/")) and "md5" in dep:
                found[path] = dep["md5"]
    return found


def lock_params(lock: dict[str, Any], stage: str = "train") -> dict[str, Any]:
    """The parameters a stage ran with, as recorded in dvc.lock."""
    recorded = ((lock.get("stages") or {}).get(stage) or {}).get("params") or {}
    merged: dict[str, Any] = {}
    for values in recorded.values():
        merged.update(values)
    return merged


def lineage(registry: Registry, version: str) -> Lineage:
    """Commit, data hash, params and metrics behind a registered version, read from git at its commit."""
    found = registry.get(version)
    commit = found.commit

    def at_commit(path: str) -> str:
        return show_file(commit, path, registry.repo) or ""

    lock = yaml.safe_load(at_commit("dvc.lock")) or {}
    params_file = yaml.safe_load(at_commit("params.yaml")) or {}
    data_path = str((params_file.get("data") or {}).get("path", "data"))
    data_root = data_path.split("/", 1)[0]
    metrics: dict[str, Any] = {}
    for entry in (yaml.safe_load(at_commit("dvc.yaml")) or {}).get("metrics") or []:
        text = at_commit(entry)
        if text:
            metrics.update(json.loads(text) if entry.endswith(".json") else yaml.safe_load(text))
    return Lineage(
        artifact=registry.artifact,
        version=found.version,
        commit=commit,
        model_md5=found.model_md5,
        data=lock_data_hashes(lock, data_root),
        params=lock_params(lock) or params_file,
        metrics=metrics,
        stages=found.stages,
    )
