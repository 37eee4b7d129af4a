"""Does dvc.lock match the code, data and params of this commit? (read from ``dvc status --json``)

Dependencies that are themselves pipeline outputs (missing in a fresh clone, or made by an earlier run) are
the upstream stages' business: ``dvc repro`` remakes them from the code, data and params, which is what is
checked here. Any of those that changed means the commit's dvc.lock is stale: the model it describes is not
the one this commit would train.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def _inside(path: str, roots: Iterable[str]) -> bool:
    return any(path == root or path.startswith(f"{root.rstrip('/')}/") for root in roots)


def pipeline_outputs(dvc_yaml: dict[str, Any]) -> set[str]:
    """Every path a stage of dvc.yaml writes (outs, metrics, plots)."""
    found: set[str] = set()
    for stage in (dvc_yaml.get("stages") or {}).values():
        for key in ("outs", "metrics", "plots"):
            for out in stage.get(key) or []:
                found.add(next(iter(out)) if isinstance(out, dict) else str(out))
    return found


def lock_problems(status: dict[str, Any], outputs: set[str]) -> list[str]:
    """Why dvc.lock does not match the workspace, one line per problem; empty when it matches."""
    problems = []
    for stage, changes in status.items():
        for change in changes if isinstance(changes, list) else [changes]:
            if isinstance(change, str):  # "changed command", "always changed"
                problems.append(f"{stage}: {change}")
                continue
            for path, state in (change.get("changed deps") or {}).items():
                if _inside(path, outputs):
                    continue  # an upstream stage's output: checked through that stage's own dependencies
                problems.append(f"{stage}: dependency {path} {state}")
    return problems


def missing_inputs(status: dict[str, Any], outputs: set[str]) -> list[str]:
    """Dependencies that are not in the workspace and that no stage makes: data that should have been pulled."""
    missing: set[str] = set()
    for changes in status.values():
        for change in changes if isinstance(changes, list) else [changes]:
            if isinstance(change, dict):
                for path, state in (change.get("changed deps") or {}).items():
                    if state == "deleted" and not _inside(path, outputs):
                        missing.add(path)
    return sorted(missing)
