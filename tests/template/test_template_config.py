"""The template's own configuration: copier.yml renders nothing the pipeline reads, every question has a default
and reaches the project through the answers task, and the changelog lists the releases newest first."""

from __future__ import annotations

import subprocess
import tomllib

import yaml
from support import REPO_ROOT

from slipway.template.changelog import changelog_sections, is_release, version_key

COPIER = yaml.safe_load((REPO_ROOT / "copier.yml").read_text())
QUESTIONS = {name: spec for name, spec in COPIER.items() if not name.startswith("_")}


def test_only_the_answers_file_is_a_template():
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    rendered = [name for name in listed if name.endswith(COPIER["_templates_suffix"]) and (REPO_ROOT / name).exists()]
    assert rendered == ["{{_copier_conf.answers_file}}.jinja"]


def test_questions_are_few_each_has_a_default_and_the_task_passes_each():
    assert 1 <= len(QUESTIONS) <= 5
    assert all("default" in spec and "help" in spec for spec in QUESTIONS.values())
    [task] = COPIER["_tasks"]
    passed = {part.split("=", 1)[0] for part in task["command"][2:]}
    assert passed == set(QUESTIONS)
    assert task["command"][1].endswith("/.copier/answers.py")


def test_the_templates_own_files_are_excluded_and_the_projects_state_copied_once():
    assert {"/.copier", "/CHANGELOG.md", "/tests/template", ".git", "copier.yml"} <= set(COPIER["_exclude"])
    assert set(COPIER["_skip_if_exists"]) == {"/dvc.lock", "/outputs"}


def test_the_changelog_starts_with_unreleased_then_releases_newest_first_each_saying_what_to_do():
    sections = changelog_sections((REPO_ROOT / "CHANGELOG.md").read_text())
    assert sections[0][0] == "Unreleased"
    releases = [heading.split()[0] for heading, _ in sections[1:]]
    assert releases and all(is_release(tag) for tag in releases)
    keys = [key for tag in releases if (key := version_key(tag))]
    assert keys == sorted(keys, reverse=True) and len(set(keys)) == len(keys)
    assert all("### What to do when updating" in text for _, text in sections)
    version = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert releases[0] == f"v{version}", "the newest release in CHANGELOG.md is the package's version"
