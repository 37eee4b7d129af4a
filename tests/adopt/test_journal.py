"""The undo journal: a change cut short at any step is put back from what is on disk, the git index included; a live
change is never undone under its owner; signals become an exception that undo code can catch."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import project_env, run, tree_digest

from slipway.adopt import journal
from slipway.adopt.journal import JournalBusy, JournalError, begin, recover
from slipway.adopt.signals import Interrupted, shielded, signals_raise

NAME = "change"
FILES = ["a.txt", "sub/b.txt", "new.txt"]


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / ".dvc").mkdir(parents=True)
    (root / ".dvc" / ".gitignore").write_text("/tmp\n")
    (root / "sub").mkdir()
    (root / "a.txt").write_text("a\n")
    (root / "sub" / "b.txt").write_text("b\n")
    (root / "data").mkdir()
    (root / "data" / "old.csv").write_text("x\n1\n")
    (root / ".gitignore").write_text("/data\n")
    env = project_env(root)
    run(["git", "init", "-q", "-b", "main"], root, env=env)
    run(["git", "add", "-A"], root, env=env)
    run(["git", "commit", "-q", "-m", "start"], root, env=env)
    return root


UNTRACKED_STORES = (".dvc/tmp/", ".git/objects/")


def _steps(root: Path, change: journal.Journal) -> list:
    return [
        lambda: change.replace_folder("data", lambda new: (new / "new.csv").write_text("y\n2\n")),
        lambda: change.replace_file("a.txt", b"A\n"),
        lambda: change.replace_file("new.txt", b"created\n"),
        lambda: run(["git", "add", "a.txt", "new.txt"], root, env=project_env(root)),  # what `dvc add` stages
        lambda: change.replace_file("sub/b.txt", b"B\n"),
    ]


@pytest.mark.parametrize("done", range(6))
def test_a_change_cut_short_after_any_step_is_put_back_by_the_next_run(tmp_path, done):
    root = _project(tmp_path)
    before = tree_digest(root, UNTRACKED_STORES)
    change = begin(root, NAME, "change things", FILES, ["data"])
    for step in _steps(root, change)[:done]:
        step()
    # the process "dies" here: nothing closes the journal; the next run finds it
    undone = recover(root, NAME)
    assert undone is not None and undone.what == "change things"
    assert ("changed nothing yet" in undone.summary()) == (done == 0)
    assert tree_digest(root, UNTRACKED_STORES) == before
    assert run(["git", "status", "--porcelain"], root).stdout == ""
    assert not list((root / ".dvc" / "tmp").iterdir())  # journal and lock file gone
    assert recover(root, NAME) is None


def test_an_undo_cut_short_is_finished_by_the_next_one(tmp_path, monkeypatch):
    root = _project(tmp_path)
    before = tree_digest(root, UNTRACKED_STORES)
    change = begin(root, NAME, "change things", FILES, ["data"])
    for step in _steps(root, change):
        step()

    def power_cut(*_args):
        raise OSError("power cut")

    with monkeypatch.context() as patch:
        patch.setattr(journal, "_undo_files", power_cut)  # the folder is back, the files are not yet
        with pytest.raises(JournalError, match=r"power cut.*the original files are still there"):
            recover(root, NAME)
    assert (root / "data" / "old.csv").exists() and (root / "a.txt").read_text() == "A\n"
    assert recover(root, NAME) is not None
    assert tree_digest(root, UNTRACKED_STORES) == before


def test_a_change_still_running_is_not_undone(tmp_path):
    root = _project(tmp_path)
    begin(root, NAME, "change things", FILES, ["data"]).replace_file("a.txt", b"A\n")
    lock = journal.journal_path(root, NAME).with_suffix(".lock")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT); "
            "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)",
            str(lock),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(JournalBusy, match=r"still running .*run `slipway change --recover` once it has ended"):
            recover(root, NAME, wait=0.5)
        assert (root / "a.txt").read_text() == "A\n"
    finally:
        holder.kill()
        holder.wait()
    assert recover(root, NAME) is not None and (root / "a.txt").read_text() == "a\n"


def test_a_journal_naming_a_path_outside_the_project_is_refused(tmp_path):
    root = _project(tmp_path)
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me\n")
    change = begin(root, NAME, "change things", FILES, ["data"])
    manifest = change.path / journal.MANIFEST
    crafted = json.loads(manifest.read_text())
    crafted["files"]["../outside.txt"] = "saved/0"
    manifest.write_text(json.dumps(crafted))
    with pytest.raises(JournalError, match=r"'\.\./outside\.txt', which is not a path inside the project"):
        recover(root, NAME)
    assert outside.read_text() == "keep me\n"


def test_a_locked_git_index_is_left_alone_and_named(tmp_path):
    root = _project(tmp_path)
    before = tree_digest(root, UNTRACKED_STORES)
    change = begin(root, NAME, "change things", FILES, ["data"])
    for step in _steps(root, change):
        step()
    index_lock = root / ".git" / "index.lock"
    index_lock.write_text("")
    with pytest.raises(JournalError, match=r"git's index is locked \(.*index.lock\)"):
        recover(root, NAME)
    index_lock.unlink()
    assert recover(root, NAME) is not None
    assert tree_digest(root, UNTRACKED_STORES) == before


def test_signals_become_an_exception_except_while_shielded():
    previous = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Interrupted) as stopped, signals_raise():
        os.kill(os.getpid(), signal.SIGTERM)
    assert stopped.value.signum == signal.SIGTERM and stopped.value.name == "SIGTERM"
    with signals_raise(), shielded():
        os.kill(os.getpid(), signal.SIGHUP)  # ignored: an undo must not be cut short
    assert signal.getsignal(signal.SIGTERM) is previous


def test_a_child_started_for_the_change_dies_with_its_parent(tmp_path):
    if not sys.platform.startswith("linux"):
        pytest.skip("PR_SET_PDEATHSIG is Linux's")
    script = (
        "import subprocess, sys; from slipway.adopt.signals import child_options; "
        "child = subprocess.Popen(['sleep', '60'], **child_options()); print(child.pid, flush=True)"
    )
    parent = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    child = int(parent.stdout)
    for _ in range(100):
        if not Path(f"/proc/{child}").exists() or "Z" in Path(f"/proc/{child}/stat").read_text().split()[2]:
            break
        time.sleep(0.05)
    else:
        os.kill(child, signal.SIGKILL)
        pytest.fail("the child outlived its parent")
