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


def _definitions() -> dict[str, set[str]]:
    """The functions each source file defines, by the file's path below its import root (``slipway/data/tables.py``,
    ``sklearn/pipeline.py``): where the stages' frames come from (this project, scikit-learn, the import system)."""
    sklearn, importlib_folder = _package_folder("sklearn"), _package_folder("importlib")
    files = [(REPO_ROOT / "src", path) for path in (REPO_ROOT / "src").rglob("*.py")]
    files += [(sklearn.parent, path) for path in sklearn.rglob("*.py")]
    files += [(importlib_folder.parent, importlib_folder / "_bootstrap.py")]
    definition = re.compile(r"^\s*(?:async\s+)?def (\w+)\(", re.MULTILINE)
    return {
        path.relative_to(root).as_posix(): set(definition.findall(path.read_text(encoding="utf-8")))
        for root, path in files
    }


DEFINITIONS = _definitions()
RULES = [(benchmark.__name__, rule) for benchmark in (pipeline, monitoring) for rule in benchmark.PHASES]


@pytest.mark.parametrize(("benchmark", "rule"), RULES, ids=[f"{name}:{rule.function}" for name, rule in RULES])
def test_every_phase_rule_names_a_function_defined_where_its_path_says(benchmark: str, rule: PhaseRule) -> None:
    defined_in = [path for path, names in DEFINITIONS.items() if rule.path_part in path and rule.function in names]
    assert defined_in, f"{benchmark}: no function {rule.function!r} in a file whose path contains {rule.path_part!r}"
