"""An undo journal: a change to several files and folders of a project lands whole or not at all, even when the
process is stopped by a signal or killed outright.

Before the first change, :func:`begin` saves the original bytes of every file the change may write (the git index
too, which ``dvc add`` stages into) and the list of folders it will replace, in a folder under ``.dvc/tmp/`` — kept
out of git by DVC's own ``.dvc/.gitignore`` and on the project's file system, so that every move is a rename. The
journal appears under its final name only once it is complete (a rename). Files are then replaced by renaming
complete files written inside the journal; a folder by renaming the old one into the journal and the new one into
place. :func:`close` renames the journal away: that rename is the change's completion marker.

:func:`undo` reads nothing but the journal and the tree, and each of its steps can be repeated, so the same code
puts the project back after an error, after SIGTERM in this process, or — through :func:`recover` in the next
run — after SIGKILL or a power cut, even one that hit an earlier undo. A lock (``flock``) held for the whole change,
and by the child processes it starts, keeps a live change from being undone under its feet.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from slipway.adapters.commands import CommandError, run_command
from slipway.adopt.signals import settle, shielded, signals_raise

ADOPT = "adopt"
"""The journal `slipway adopt` keeps (``.dvc/tmp/adopt-journal``); every verb undoes a killed one first."""
MANIFEST = "manifest.json"
GIT_INDEX = "(git index)"
"""How the git index is named in a journal's manifest and in what :func:`undo` reports."""


class JournalError(RuntimeError):
    """The journal cannot be opened, or a change cannot be undone yet; the message says what to do."""


class JournalBusy(JournalError):
    """Another process holds the journal's lock: a change is running (or a child it started still is)."""


# --- the lock -----------------------------------------------------------------------------------------------------


def journal_path(root: Path, name: str) -> Path:
    """Where the journal of the ``name`` change lives in the project at ``root``."""
    return root / ".dvc" / "tmp" / f"{name}-journal"


@contextlib.contextmanager
def locked(root: Path, name: str, wait: float) -> Iterator[None]:
    """Hold the ``name`` journal's lock, waiting up to ``wait`` seconds for another holder to let go.

    The lock file is removed on release; a file replaced meanwhile is detected (inode check) and locked anew. The
    descriptor is inheritable: see :func:`slipway.adopt.signals.child_options`.
    """
    path = journal_path(root, name).with_suffix(".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            if time.monotonic() >= deadline:
                raise JournalBusy(
                    f"another `slipway {name}` (or a `dvc` command it started) is still running in {root}; "
                    f"run `slipway {name} --recover` once it has ended"
                ) from None
            time.sleep(0.2)
            continue
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the previous holder removed the file we opened: lock the current one
    try:
        os.set_inheritable(fd, True)
        yield
    finally:
        path.unlink(missing_ok=True)
        os.close(fd)


# --- writing the journal ------------------------------------------------------------------------------------------


def _write_durably(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _sync_folder(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _inside(root: Path, relative: str) -> Path:
    """``root / relative``, refusing a name that would leave the project (the journal is data, not a command)."""
    candidate = Path(relative)
    if candidate.is_absolute() or ".." in candidate.parts or not candidate.parts:
        raise JournalError(f"the journal names {relative!r}, which is not a path inside the project")
    return root / candidate


def git_index(root: Path) -> Path | None:
    """The git index of the repository ``root`` is in (worktrees and ``GIT_INDEX_FILE`` included); None outside
    git."""
    try:
        found = run_command(["git", "rev-parse", "--git-path", "index"], root, check=False)
    except CommandError:  # no git here
        return None
    return root / found.stdout.strip() if found.returncode == 0 else None


@dataclass(frozen=True)
class Journal:
    """An open journal: the project's files and folders it may change, and where their new versions are staged."""

    root: Path
    path: Path
    files: tuple[str, ...]
    folders: tuple[str, ...]

    def replace_file(self, relative: str, data: bytes) -> None:
        """Give a journaled file new content, atomically (a complete file renamed over the old one)."""
        target = _inside(self.root, relative)
        staged = self.path / "new" / f"file-{self.files.index(relative)}"
        _write_durably(staged, data)
        if target.exists():
            shutil.copymode(target, staged)
        os.replace(staged, target)

    def replace_folder(self, relative: str, fill: Callable[[Path], object]) -> None:
        """Give a journaled folder new content: ``fill`` writes it beside the project (what it returns is ignored),
        then two renames swap it in."""
        number = self.folders.index(relative)
        target, new = _inside(self.root, relative), self.path / "new" / f"folder-{number}"
        new.mkdir()
        fill(new)
        if target.exists():
            os.rename(target, self.path / "aside" / str(number))
        os.rename(new, target)


def begin(root: Path, name: str, what: str, files: list[str], folders: list[str]) -> Journal:
    """Record the originals of ``files`` and which of ``folders`` exist, then open the journal (nothing in the
    project has changed yet). The caller holds :func:`locked` and has undone any earlier journal."""
    final = journal_path(root, name)
    if final.exists():
        raise JournalError(f"an interrupted `slipway {name}` is still recorded in {final}: undo it first")
    work = final.with_name(f"{final.name}.new-{uuid.uuid4().hex[:8]}")
    for part in ("saved", "new", "aside", "discard"):
        (work / part).mkdir(parents=True)
    saved: dict[str, str | None] = {}
    for number, relative in enumerate(files):
        source = _inside(root, relative)
        saved[relative] = None
        if source.is_file():
            shutil.copy2(source, work / "saved" / str(number))
            saved[relative] = f"saved/{number}"
    index = git_index(root)
    if index is not None:
        saved[GIT_INDEX] = None
        if index.is_file():
            shutil.copy2(index, work / "saved" / "index")
            saved[GIT_INDEX] = "saved/index"
    manifest = {
        "what": what,
        "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "files": saved,
        "folders": {relative: _inside(root, relative).exists() for relative in folders},
    }
    _write_durably(work / MANIFEST, json.dumps(manifest, indent=2).encode())
    for folder in (work / "saved", work):
        _sync_folder(folder)
    os.rename(work, final)
    _sync_folder(final.parent)
    return Journal(root, final, tuple(files), tuple(folders))


def close(path: Path) -> None:
    """Retire a journal: renaming it away is the atomic 'done' (committed, or fully undone); then delete it."""
    retired = path.with_name(f"{path.name}.done-{uuid.uuid4().hex[:8]}")
    os.rename(path, retired)
    shutil.rmtree(retired, ignore_errors=True)


# --- undoing ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Undone:
    """What :func:`undo` found and put back."""

    what: str
    started: str
    restored: list[str]

    def summary(self) -> str:
        done = f"put back {', '.join(self.restored)}" if self.restored else "it had changed nothing yet"
        return f"undid an interrupted `slipway {self.what}` (started {self.started}): {done}"


def _same_bytes(one: Path, other: Path) -> bool:
    return other.is_file() and one.stat().st_size == other.stat().st_size and one.read_bytes() == other.read_bytes()


def _restore_git_index(index: Path, saved: Path | None) -> bool:
    """Put the index's original bytes back through git's own lock file; False when it is unchanged."""
    unchanged = _same_bytes(saved, index) if saved is not None else not index.exists()
    if unchanged:
        return False
    lock = index.with_name(index.name + ".lock")
    try:
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise JournalError(f"git's index is locked ({lock}): if no git command is running, delete that file") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            if saved is not None:
                handle.write(saved.read_bytes())
                handle.flush()
                os.fsync(handle.fileno())
        if saved is None:
            index.unlink(missing_ok=True)
            lock.unlink()
        else:
            os.replace(lock, index)
    except BaseException:
        lock.unlink(missing_ok=True)
        raise
    return True


def _undo_folders(root: Path, path: Path, folders: dict[str, bool]) -> list[str]:
    restored = []
    for number, (relative, existed) in enumerate(folders.items()):
        target, aside = _inside(root, relative), path / "aside" / str(number)
        discard = path / "discard" / uuid.uuid4().hex[:8]
        if aside.exists():  # the original was moved aside: whatever stands in its place is new
            if target.exists() or target.is_symlink():
                os.rename(target, discard)
            os.rename(aside, target)
            restored.append(f"{relative}/")
        elif not existed and target.exists():
            os.rename(target, discard)
            restored.append(f"{relative}/ (removed)")
    return restored


def _undo_files(root: Path, path: Path, files: dict[str, str | None]) -> list[str]:
    restored = []
    for relative, saved in files.items():
        if relative == GIT_INDEX:
            index = git_index(root)
            if index is not None and _restore_git_index(index, path / saved if saved else None):
                restored.append("the git index")
            continue
        target = _inside(root, relative)
        if saved is None:
            if target.is_file():
                target.unlink()
                restored.append(f"{relative} (removed)")
        elif not _same_bytes(path / saved, target):
            staged = path / "new" / "restoring"
            shutil.copy2(path / saved, staged)
            os.replace(staged, target)
            restored.append(relative)
    return restored


def undo(root: Path, name: str) -> Undone | None:
    """Put back everything an open ``name`` journal records and retire it; None when there is none. The caller holds
    :func:`locked`. Leftovers of journals that never opened or were already retired are deleted."""
    final = journal_path(root, name)
    for leftover in final.parent.glob(f"{final.name}.*-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    if not final.exists():
        return None
    with shielded():
        try:
            manifest = json.loads((final / MANIFEST).read_text())
            restored = _undo_folders(root, final, manifest["folders"])
            restored += _undo_files(root, final, manifest["files"])
            close(final)
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise JournalError(
                f"could not undo the interrupted `slipway {name}` recorded in {final} ({error}); "
                "the original files are still there"
            ) from None
    return Undone(manifest["what"], manifest["started"], restored)


def pending(root: Path, name: str) -> bool:
    """Whether an interrupted ``name`` change is recorded in the project at ``root``."""
    return journal_path(root, name).exists()


def recover(root: Path, name: str, wait: float = 30.0) -> Undone | None:
    """Undo an interrupted ``name`` change in the project at ``root``, if one is recorded (None otherwise).

    Raises :class:`JournalBusy` when the change is still running after ``wait`` seconds, and
    :class:`JournalError` when it cannot be undone yet.
    """
    if not (root / ".dvc").is_dir() or not journal_path(root, name).parent.is_dir():
        return None
    with signals_raise(), locked(root, name, wait):
        settle()
        return undo(root, name)
