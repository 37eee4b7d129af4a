"""The package stays easy to live in: the root holds only the shared core, modules and functions stay small."""

from __future__ import annotations

import ast
from pathlib import Path

from support import REPO_ROOT

PACKAGE = REPO_ROOT / "src" / "slipway"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
ROOT_MODULES = {"__init__.py", "config.py", "tasks.py"}


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_the_package_root_holds_only_the_shared_core() -> None:
    assert {path.name for path in PACKAGE.glob("*.py")} <= ROOT_MODULES


def test_no_module_is_over_400_lines() -> None:
    long = {
        str(p.relative_to(PACKAGE)): n for p in _modules() if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"split these modules by concern: {long}"


def test_no_function_is_over_60_lines() -> None:
    long: dict[str, int] = {}
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(PACKAGE)}:{node.name}"] = lines
    assert not long, f"split these functions: {long}"
