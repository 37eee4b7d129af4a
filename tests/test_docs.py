"""The README and docs/ stay true: links resolve, and every code block marked runnable runs in a fresh clone.

Mark a block as runnable with a line `<!-- runnable -->` right before its opening fence. Keep such blocks cheap
(help texts, `dvc pull`, dry runs): they run in a fresh clone of the working tree, one clone per page, in order.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support import REPO_ROOT, fresh_clone, run

PAGES = sorted([REPO_ROOT / "README.md", *(REPO_ROOT / "docs").glob("*.md")])
MARKER = re.compile(r"^<!-- runnable -->$", re.MULTILINE)
BLOCK = re.compile(r"^<!-- runnable -->\n```(?:bash|sh)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
PENDING = {
    "docs/images/pr-comment.png": "a screenshot from a real PR run, added by hand",
    "docs/promotion.md": "written with the promotion workflow (promotion branch)",
}
"""Link targets that other work adds; once they exist they are checked like any other."""


def runnable_blocks(text: str) -> list[str]:
    return [match.group(1) for match in BLOCK.finditer(text)]


def _name(page: Path) -> str:
    return str(page.relative_to(REPO_ROOT))


def test_the_marker_always_precedes_a_shell_block():
    for page in PAGES:
        text = page.read_text()
        assert len(MARKER.findall(text)) == len(runnable_blocks(text)), f"{_name(page)}: a marker without a bash block"


def test_the_readme_and_the_howtos_have_runnable_examples():
    counted = {_name(page): len(runnable_blocks(page.read_text())) for page in PAGES}
    assert counted["README.md"] >= 3
    assert sum(counted.values()) >= 8
    for howto in ("own-data", "own-model", "remote-storage", "secrets-and-tokens", "monitoring", "scale-out"):
        assert f"docs/{howto}.md" in counted, f"docs/{howto}.md is missing"


def test_relative_links_resolve():
    broken = []
    for page in PAGES:
        for target in LINK.findall(page.read_text()):
            if "://" in target or target.startswith("mailto:"):
                continue
            resolved = (page.parent / target).resolve()
            relative = str(resolved.relative_to(REPO_ROOT)) if resolved.is_relative_to(REPO_ROOT) else target
            if not resolved.exists() and relative not in PENDING:
                broken.append(f"{_name(page)} -> {target}")
    assert not broken, f"broken links: {broken}"


def test_the_pr_comment_image_is_a_marked_placeholder_until_it_exists():
    readme = (REPO_ROOT / "README.md").read_text()
    assert "(docs/images/pr-comment.png)" in readme
    if not (REPO_ROOT / "docs/images/pr-comment.png").exists():
        assert "<!-- verify: replace the placeholder" in readme


@pytest.mark.slow
@pytest.mark.parametrize("page", [p for p in PAGES if runnable_blocks(p.read_text())], ids=_name)
def test_runnable_blocks_run_in_a_fresh_clone(tmp_path, page):
    repo = fresh_clone(tmp_path / "repo")
    for block in runnable_blocks(page.read_text()):
        result = run(["bash", "-euo", "pipefail", "-c", block], repo, check=False, timeout=300)
        assert result.returncode == 0, (
            f"{_name(page)}:\n{block}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        )
