"""The package's style target: no module over 400 lines (split by concern instead)."""

from __future__ import annotations

from support import REPO_ROOT

LIMIT = 400


def test_no_module_is_over_400_lines() -> None:
    sizes = {
        str(path.relative_to(REPO_ROOT)): len(path.read_text().splitlines())
        for path in (REPO_ROOT / "src" / "slipway").rglob("*.py")
    }
    assert {path: lines for path, lines in sizes.items() if lines > LIMIT} == {}
