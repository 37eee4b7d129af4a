"""Each dvc.yaml stage depends on every slipway module its command runs, so changing one reruns the stage.

The modules are found statically: the stage script's imports (function-level ones included), followed through the
package (a stage is a ``python pipelines/<stage>.py`` script). Imports under ``if TYPE_CHECKING:`` never run and
are not followed. A dep covers a module when it is its file or a folder
holding it.
"""

from __future__ import annotations

import ast
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import TypeGuard

import pytest
import yaml
from support import REPO_ROOT

from slipway.pipeline.stage_host import script_stage_modules

PACKAGE = "slipway"
SOURCES = REPO_ROOT / "src"


def _module_file(name: str) -> Path | None:
    """The file that defines module ``name`` (``slipway.x``: ``src/slipway/x.py`` or ``x/__init__.py``)."""
    base = SOURCES.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _package_of(path: Path) -> str:
    """The package a module file belongs to (the package itself for an ``__init__.py``)."""
    return ".".join(path.relative_to(SOURCES).parent.parts)


def _is_type_checking(node: ast.AST) -> TypeGuard[ast.If]:
    test = node.test if isinstance(node, ast.If) else None
    return isinstance(test, ast.Name | ast.Attribute) and ast.unparse(test).endswith("TYPE_CHECKING")


def _runtime_nodes(node: ast.AST) -> Iterator[ast.AST]:
    """``node``'s descendants that can run (not under ``if TYPE_CHECKING:``)."""
    for child in ast.iter_child_nodes(node):
        if _is_type_checking(child):
            yield from (n for stmt in child.orelse for n in [stmt, *_runtime_nodes(stmt)])
            continue
        yield child
        yield from _runtime_nodes(child)


def _imports(nodes: Iterator[ast.AST], package: str) -> set[str]:
    """The slipway modules that these import statements load, given the importing module's package."""
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".") if package else []
                anchor = parts[: len(parts) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names if _module_file(f"{base}.{alias.name}")}
    return {name for name in found if name == PACKAGE or name.startswith(f"{PACKAGE}.")}


def _with_packages(name: str) -> set[str]:
    """Importing ``a.b.c`` runs ``a`` and ``a.b`` first."""
    parts = name.split(".")
    return {".".join(parts[: i + 1]) for i in range(len(parts))}


def _closure(start: set[str]) -> set[Path]:
    """The files of ``start`` and of every slipway module they import, transitively (function-level included)."""
    pending = set().union(*(_with_packages(name) for name in start)) if start else set()
    seen: set[str] = set()
    files: set[Path] = set()
    while pending:
        name = pending.pop()
        seen.add(name)
        path = _module_file(name)
        assert path is not None, f"{name} is imported but there is no such module under {SOURCES}"
        files.add(path)
        tree = ast.parse(path.read_text(), str(path))
        for imported in _imports(_runtime_nodes(tree), _package_of(path)):
            pending |= _with_packages(imported) - seen
    return files


def stage_files(cmd: str, root: Path = REPO_ROOT) -> set[Path]:
    """The repository files a stage command runs: its script and the slipway modules it imports."""
    words = shlex.split(cmd)
    if len(words) >= 2 and words[0] in {"python", "python3"} and words[1].endswith(".py"):
        script = root / words[1]
        tree = ast.parse(script.read_text(), str(script))
        named = set(script_stage_modules(script))  # run_stage("module:function") imports the module when it runs
        return {script} | _closure(_imports(_runtime_nodes(tree), "") | named)
    raise AssertionError(f"cannot tell which modules `{cmd}` runs: use `python pipelines/<stage>.py`")


def uncovered(files: set[Path], deps: list[str], root: Path = REPO_ROOT) -> list[str]:
    """The files (relative to ``root``) that no dep names, itself or by a folder holding it."""
    declared = [(root / dep).resolve() for dep in deps]
    return sorted(
        str(path.relative_to(root))
        for path in files
        if not any(path.resolve() == dep or dep in path.resolve().parents for dep in declared)
    )


STAGES = (yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text()) or {})["stages"]


@pytest.mark.parametrize("name", sorted(STAGES))
def test_stage_deps_cover_every_module_it_runs(name: str) -> None:
    stage = STAGES[name]
    files = stage_files(stage["cmd"])
    assert any(path.parent == SOURCES / PACKAGE for path in files), f"{name}: found no slipway module at all"
    missing = uncovered(files, [str(dep) for dep in stage.get("deps") or []])
    assert not missing, f"dvc.yaml stage {name!r} does not depend on modules it runs; add to its deps: {missing}"


def test_function_level_and_relative_imports_are_followed(tmp_path: Path, monkeypatch) -> None:
    """In a small package: an import inside a function and relative imports are followed; an import under
    ``if TYPE_CHECKING:`` is not."""
    files = {
        "slipway/__init__.py": "",
        "slipway/a/__init__.py": "from . import b\n",
        "slipway/a/b.py": "def f():\n    from ..c import g\n",
        "slipway/c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from slipway import d\n",
        "slipway/d.py": "",
    }
    for name, text in files.items():
        (tmp_path / "src" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "src" / name).write_text(text)
    (tmp_path / "stage.py").write_text("def main():\n    import slipway.a\n")
    monkeypatch.setitem(globals(), "SOURCES", tmp_path / "src")
    found = {str(path.relative_to(tmp_path)) for path in stage_files("python stage.py", tmp_path)}
    assert found == {"stage.py", *(f"src/{name}" for name in files if name != "slipway/d.py")}

    named_stage = 'from slipway.pipeline.stage_runner import run_stage\nrun_stage("slipway.c:g")\n'
    (tmp_path / "named.py").write_text(named_stage)
    (tmp_path / "src/slipway/pipeline").mkdir()
    for name in ("__init__.py", "stage_runner.py", "stage_host.py"):
        (tmp_path / "src/slipway/pipeline" / name).write_text("")
    named = {str(path.relative_to(tmp_path)) for path in stage_files("python named.py", tmp_path)}
    assert "src/slipway/c.py" in named  # the stage run by name is followed like an import


def test_a_folder_dep_covers_the_modules_inside_it() -> None:
    files = {SOURCES / PACKAGE / "io.py", REPO_ROOT / "pipelines" / "train.py"}
    assert uncovered(files, ["src/slipway", "pipelines/train.py"]) == []
    assert uncovered(files, ["src/slipway/data.py", "pipelines"]) == ["src/slipway/io.py"]
