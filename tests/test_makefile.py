"""The linters are make verbs, not tests: `make lint` runs every one of them, `make test` runs `make lint` before the
suite, and no test runs a linter itself."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest
from support import REPO_ROOT, project_env, run

LINTERS = {
    "ruff check": "ruff check .",
    "ruff format": "ruff format --check .",
    "mypy": "mypy",
    "import contracts": "lint-imports",
    "workflow schema": "check-jsonschema --builtin-schema vendor.github-workflows",
    "action schema": "check-jsonschema --builtin-schema vendor.github-actions",
    "actionlint": "actionlint",
    "zizmor": "zizmor --offline --no-progress --persona=auditor",
    "hadolint": "hadolint --failure-threshold info infra/Dockerfile",
    "shellcheck": "shellcheck infra/",
    "kubernetes manifests": "kubernetes-validate --strict",
}
LINTER_COMMANDS = {command.split()[0] for command in LINTERS.values()}


def _dry_run(target: str) -> list[str]:
    """The commands ``make TARGET`` would run, in order (``make -n``: nothing runs)."""
    return run(["make", "-n", "--no-print-directory", target], REPO_ROOT).stdout.splitlines()


def _first(commands: list[str], fragment: str) -> int:
    return next(i for i, line in enumerate(commands) if fragment in line)


@pytest.mark.parametrize("linter", list(LINTERS))
def test_make_lint_runs_every_linter(linter: str) -> None:
    assert any(LINTERS[linter] in line for line in _dry_run("lint")), f"`make lint` does not run {linter}"


def test_make_typecheck_runs_mypy_alone() -> None:
    """main.yml's type-check job (it saves mypy's cache for pull requests) runs this verb."""
    assert _dry_run("typecheck")[-1] == LINTERS["mypy"]  # after `make setup`'s commands when .venv is not synced


def test_make_test_runs_the_linters_before_the_suite() -> None:
    commands = _dry_run("test")
    suite = _first(commands, "pytest ")
    for linter, command in LINTERS.items():
        assert _first(commands, command) < suite, f"`make test` runs {linter} after the suite, or not at all"


def _strings(path: Path) -> set[str]:
    """The file's string literals, except keys looked up by subscript (``config["tool"]["mypy"]`` runs nothing)."""
    tree = ast.parse(path.read_text())
    keys = {id(node.slice) for node in ast.walk(tree) if isinstance(node, ast.Subscript)}
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in keys
    }


def test_no_test_runs_a_linter() -> None:
    """A linter named as a command (`"actionlint"`, `VENV_BIN / "hadolint"`) anywhere under tests/, this file aside."""
    found = {
        str(path.relative_to(REPO_ROOT)): names
        for path in sorted((REPO_ROOT / "tests").rglob("*.py"))
        if path != Path(__file__).resolve()
        for names in [sorted(LINTER_COMMANDS & _strings(path))]
        if names
    }
    assert not found, f"tests that run linters (move them to `make lint`): {found}"


def test_the_suite_runs_one_thread_per_process_and_one_worker_more_than_cores() -> None:
    """The workers are the suite's parallelism; `OMP_NUM_THREADS=1` in the caller's environment (which `nproc`
    obeys) does not cut the number of workers."""
    cores = len(os.sched_getaffinity(0))  # what nproc counts
    environment = project_env(REPO_ROOT, OMP_NUM_THREADS="1")
    commands = run(["make", "-n", "--no-print-directory", "test"], REPO_ROOT, env=environment).stdout.splitlines()
    suite = commands[_first(commands, "pytest ")]
    assert "OMP_NUM_THREADS=1" in suite and "OPENBLAS_NUM_THREADS=1" in suite
    assert f"PYTEST_XDIST_AUTO_NUM_WORKERS={cores + 1} " in suite
    fast = _dry_run("test-fast")
    assert "OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 pytest" in fast[_first(fast, "pytest ")]
