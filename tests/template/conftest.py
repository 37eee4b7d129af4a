"""Fixtures: a scratch Slipway template with two releases, and a project copied from its v0.1.0."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import fresh_clone, git
from template.scratch import copier_copy, release_v020


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template repository: tags v0.1.0 and v0.2.0 (a fresh clone of the working tree, then one change)."""
    repo = fresh_clone(tmp_path_factory.mktemp("template") / "slipway")
    git(repo, "tag", "v0.1.0")
    release_v020(repo)
    # Packed, as a repository cloned from a forge is: Copier renders the path of every file in its clone of the
    # template, .git's included, and the 400 loose objects of a fresh commit made each update ~4 s slower.
    git(repo, "repack", "-a", "-d", "-q")
    return repo


@pytest.fixture(scope="session")
def project_v010(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project copied from v0.1.0 with the default answers, committed (clone it before changing it)."""
    return copier_copy(template, tmp_path_factory.mktemp("copied") / "project")
