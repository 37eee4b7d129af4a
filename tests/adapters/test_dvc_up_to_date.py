"""DVC's last "nothing to do", remembered: what the note watches (fast), and `slipway repro` answering from it only
while nothing DVC reads or writes has changed (slow: DVC in processes)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from support import git, project_env, run
from support.clones import dvc_project

from slipway.adapters.dvc_up_to_date import NOTE, Watch, plain, read_note, state_of

ANSWERED = "(Nothing any stage reads or writes has changed since DVC found them so.)"
SKIPPED = "didn't change, skipping"


def test_the_state_of_a_folder_moves_with_any_write_addition_removal_or_link_target(tmp_path: Path) -> None:
    folder = tmp_path / "src"
    (folder / "inner").mkdir(parents=True)
    (folder / "inner" / "a.py").write_text("a = 1\n")
    (tmp_path / "target.txt").write_text("one")
    (folder / "link").symlink_to(tmp_path / "target.txt")
    seen = state_of(tmp_path, ["src", "absent.yaml"])
    assert seen["absent.yaml"] is None and {"src/inner/a.py", "src/link", "src/link ->"} <= set(seen)
    assert state_of(tmp_path, ["src", "absent.yaml"]) == seen  # reading changes nothing

    def moved(change) -> bool:
        nonlocal seen
        change()
        now = state_of(tmp_path, ["src", "absent.yaml"])
        moved, seen = now != seen, now
        return moved

    assert moved(lambda: (folder / "inner" / "a.py").write_text("a = 1\n"))  # the same bytes, written again
    assert moved(lambda: os.utime(folder / "inner" / "a.py"))
    assert moved(lambda: (folder / "inner" / "b.py").write_text(""))
    assert moved(lambda: (folder / "inner" / "b.py").unlink())
    assert moved(lambda: (tmp_path / "target.txt").write_text("two"))  # through the link
    assert moved(lambda: (tmp_path / "absent.yaml").write_text("{}"))
    assert not moved(lambda: (tmp_path / "elsewhere.txt").write_text("not watched"))


def test_only_a_plain_repro_is_answered_from_the_note() -> None:
    assert plain([]) and plain(["-q"])
    for args in (["-f"], ["train"], ["--pull"], ["--allow-missing"], ["-s", "train"], ["--no-commit"], ["-v"]):
        assert not plain(args)


PIPELINE = """\
stages:
  double:
    cmd: python -c "open('out.txt', 'w').write(open('in.txt').read() * 2)"
    deps:
      - in.txt
    outs:
      - out.txt
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A git and DVC project of one stage, reproduced once (the note then knows its paths, not yet DVC's verdict)."""
    root = dvc_project(tmp_path / "project", PIPELINE)
    (root / "in.txt").write_text("ab")
    assert "Running stage 'double'" in _repro(root)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "one stage")
    return root


def _repro(root: Path, *args: str) -> str:
    ran = run(["slipway", "repro", *args], root, env=project_env(root))
    return ran.stdout + ran.stderr


@pytest.mark.slow
def test_a_plain_repro_answers_from_the_note_only_while_nothing_changed(project: Path) -> None:
    checked = _repro(project)  # DVC checks; nothing changed while it did: the note has its verdict
    assert SKIPPED in checked and ANSWERED not in checked
    assert (read_note(project) or pytest.fail("no note")).state is not None
    assert _repro(project).splitlines() == [f"Data and pipelines are up to date. {ANSWERED}"]  # without DVC
    assert _repro(project, "-q") == ""

    (project / "in.txt").write_text("ab")  # the same bytes: DVC decides, and finds nothing to do
    assert SKIPPED in _repro(project)
    assert ANSWERED in _repro(project)

    (project / "in.txt").write_text("cd")
    assert "Running stage 'double'" in _repro(project)
    assert (project / "out.txt").read_text() == "cdcd"
    assert SKIPPED in _repro(project) and ANSWERED in _repro(project)

    (project / "out.txt").unlink()  # an output gone: DVC brings it back
    assert ANSWERED not in _repro(project)
    assert (project / "out.txt").read_text() == "cdcd"

    assert "Running stage 'double'" in _repro(project, "-f")  # forced: never answered from the note
    assert SKIPPED in _repro(project) and ANSWERED in _repro(project)
    (project / "sub").mkdir()  # a pipeline git shows in a new folder (an upstream one, maybe): DVC's to read
    (project / "sub" / "dvc.yaml").write_text("stages:\n  hello:\n    cmd: echo hi > hi.txt\n    outs: [hi.txt]\n")
    assert SKIPPED in _repro(project)


@pytest.mark.slow
def test_a_note_from_another_checkout_or_of_a_stage_dvc_always_runs_is_never_an_answer(
    project: Path, tmp_path: Path
) -> None:
    _repro(project)
    assert ANSWERED in _repro(project)
    copy = tmp_path / "copy"
    shutil.copytree(project, copy, symlinks=True)  # every file alike, note included: other inodes and times
    assert Watch.start(copy).note is not None and not Watch.start(copy).nothing_changed
    assert SKIPPED in _repro(copy)

    (project / "dvc.yaml").write_text(PIPELINE + "  stamp:\n    cmd: date > stamp.txt\n    always_changed: true\n")
    for _ in range(2):
        assert "Running stage 'stamp'" in _repro(project)
    assert not (project / NOTE).exists()


@pytest.mark.slow
def test_a_pipeline_dvc_cannot_read_gets_dvcs_own_error(project: Path) -> None:
    (project / "dvc.yaml").write_text("stages:\n  double:\n    cmd: [unclosed\n")
    failed = run(["slipway", "repro"], project, check=False)
    assert failed.returncode == 255, failed.stdout + failed.stderr  # `dvc repro`'s own code
    assert "'./dvc.yaml' is invalid" in failed.stderr and "Traceback" not in failed.stderr
