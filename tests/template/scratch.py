"""A scratch Slipway template with two releases: v0.1.0 (the working tree as it is) and v0.2.0 (a line in the README,
a Makefile comment, a changed default in params.yaml and its changelog entry); copying a project from it."""

from __future__ import annotations

from pathlib import Path

import yaml
from support import VENV_BIN, git, project_env, run

COPIER = str(VENV_BIN / "copier")
README_LINE = "Slipway v0.2.0 added this line to the README."
MAKEFILE_LINE = "# Slipway v0.2.0 added this comment to the Makefile."
V020_ENTRY = """## v0.2.0 - 2027-01-04

### Changed

- Production monitoring looks at the last 14 days by default (`monitor.window_days`), not 7.

### What to do when updating

- Nothing, unless you set `monitor.window_days` yourself: then keep yours.

"""


def release_v020(template: Path) -> None:
    """Commit the template change of v0.2.0 and tag it."""
    readme = template / "README.md"
    readme.write_text(readme.read_text() + f"\n{README_LINE}\n")
    makefile = template / "Makefile"
    makefile.write_text(f"{MAKEFILE_LINE}\n{makefile.read_text()}")
    params = template / "params.yaml"
    text = params.read_text()
    assert "  window_days: 7 " in text
    params.write_text(text.replace("  window_days: 7 ", "  window_days: 14", 1))
    changelog = template / "CHANGELOG.md"
    changelog.write_text(changelog.read_text().replace("## v0.1.0", V020_ENTRY + "## v0.1.0", 1))
    git(template, "commit", "-qam", "Monitor two weeks by default")
    git(template, "tag", "v0.2.0")


def copier_copy(template: Path, dest: Path, *options: str) -> Path:
    """`copier copy --vcs-ref v0.1.0 --defaults --trust` as a person runs it, then the project's first commit."""
    command = [COPIER, "copy", "--vcs-ref", "v0.1.0", "--defaults", "--trust", *options, str(template), str(dest)]
    run(command, dest.parent, env=project_env(dest.parent))
    git(dest, "init", "-q", "-b", "main")
    git(dest, "add", "-A")
    git(dest, "commit", "-qm", "Start from Slipway v0.1.0")
    return dest


def update(project: Path, *options: str) -> None:
    """`copier update --vcs-ref v0.2.0 --defaults --trust` as a person runs it."""
    command = [COPIER, "update", "--vcs-ref", "v0.2.0", "--defaults", "--trust", *options]
    run(command, project, env=project_env(project))


def status(project: Path) -> set[str]:
    """The paths `git status` lists (changed, new)."""
    return {line[3:] for line in git(project, "status", "--porcelain", "--untracked-files=all").splitlines()}


def answers(project: Path) -> dict:
    """The project's .copier-answers.yml."""
    return yaml.safe_load((project / ".copier-answers.yml").read_text())
