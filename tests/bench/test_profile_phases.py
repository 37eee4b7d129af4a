"""The profiles' phase rules (`make bench`, `make bench-monitoring`) name functions that exist: a rule whose function
was renamed or removed matches nothing, and its time silently lands in "other" (or in a wrong outer phase)."""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import monitoring
import pipeline
import pytest
from benchlib import PhaseRule
from support import REPO_ROOT


@dataclass(frozen=True)
class Definition:
    """A function defined in a source file, as a profiler's frame of it would show (benchlib's ``Frame``)."""

    function: str
    file_path: str
    time: float = 0.0
    children: Sequence[Any] = field(default_factory=tuple)


def _package_folder(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.origin is not None, name
    return Path(spec.origin).parent


def _definitions() -> list[Definition]:
    """Every function of the files the stages' frames come from: this project, scikit-learn, the import system."""
    importlib_folder = _package_folder("importlib")
    files = [*(REPO_ROOT / "src").rglob("*.py"), *_package_folder("sklearn").rglob("*.py")]
    files.append(importlib_folder / "_bootstrap.py")
    definition = re.compile(r"^\s*(?:async\s+)?def (\w+)\(", re.MULTILINE)
    return [
        Definition(name, path.as_posix())
        for path in files
        for name in set(definition.findall(path.read_text(encoding="utf-8")))
    ]


DEFINITIONS = _definitions()
RULES = [(benchmark.__name__, rule) for benchmark in (pipeline, monitoring) for rule in benchmark.PHASES]


@pytest.mark.parametrize(("benchmark", "rule"), RULES, ids=[f"{name}:{rule.function}" for name, rule in RULES])
def test_every_phase_rule_names_a_function_defined_where_its_path_says(benchmark: str, rule: PhaseRule) -> None:
    assert any(rule.matches(defined) for defined in DEFINITIONS), (
        f"{benchmark}: no function {rule.function!r} in a file whose path contains {rule.path_part!r}"
    )
