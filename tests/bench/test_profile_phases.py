"""The profiles' phase rules (`make bench`, `make bench-monitoring`) name functions that exist: a rule whose function
was renamed or removed matches nothing, and its time silently lands in "other" (or in a wrong outer phase)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import monitoring
import pipeline
import pytest
from benchlib import PhaseRule
from support import REPO_ROOT


def _package_folder(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.origin is not None, name
    return Path(spec.origin).parent


def _sources() -> list[Path]:
    """Where the stages' frames come from: this project, scikit-learn, and the import system."""
    roots = [REPO_ROOT / "src", _package_folder("sklearn")]
    return [path for root in roots for path in root.rglob("*.py")] + [_package_folder("importlib") / "_bootstrap.py"]


SOURCES = _sources()


RULES = [(benchmark.__name__, rule) for benchmark in (pipeline, monitoring) for rule in benchmark.PHASES]


@pytest.mark.parametrize(("benchmark", "rule"), RULES, ids=[f"{name}:{rule.function}" for name, rule in RULES])
def test_every_phase_rule_names_a_function_defined_where_its_path_says(benchmark: str, rule: PhaseRule) -> None:
    definition = re.compile(rf"^\s*(async\s+)?def {re.escape(rule.function)}\(", re.MULTILINE)
    defined_in = [
        path
        for path in SOURCES
        if rule.path_part in path.as_posix() and definition.search(path.read_text(encoding="utf-8"))
    ]
    assert defined_in, f"{benchmark}: no function {rule.function!r} in a file whose path contains {rule.path_part!r}"
