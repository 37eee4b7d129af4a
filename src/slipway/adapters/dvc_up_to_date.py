"""DVC's last "nothing to do", remembered: a `slipway repro` with nothing changed since answers without starting DVC
(whose imports and stage checks are nearly all of a no-op's time).

The note (``.dvc/tmp/slipway-up-to-date.json``, in DVC's own untracked folder) holds every path DVC's verdict rests
on (each stage's dependencies and outputs, every file and folder under them, the dvc.yaml, dvc.lock and ``.dvc``
files, params.yaml, DVC's configuration and ignore file) and their state (type, size, modification and change
times, inode) when a plain `dvc repro` last ran without changing any of them: then DVC had found every stage up to
date, and nothing changed while it looked. A repro is answered from the note only when every one of those paths is
exactly as it was and git shows the same DVC files (a new dvc.yaml anywhere is DVC's to read); any difference, a
stage DVC always runs, a dependency outside the project or no git, and DVC decides as always. Like DVC's own state
database, it trusts a file whose size, times and inode have not moved; a write always moves the change time, which
no one can set, so a note copied from elsewhere (or committed by a pull request) never matches.

Nothing heavy is imported here: DVC only for the paths of a changed pipeline, which its index gives."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from slipway.adapters.commands import CommandError
from slipway.adapters.git import run_git

NOTE = Path(".dvc") / "tmp" / "slipway-up-to-date.json"
ALWAYS_READ = ("params.yaml", ".dvcignore", ".dvc/config", ".dvc/config.local")
"""Read by DVC whatever the stages say (files that are absent are watched for appearing)."""
_DVC_FILES = (":(glob)**/dvc.yaml", ":(glob)**/dvc.lock", ":(glob)**/*.dvc")
_VERSION = 1

State = dict[str, list[int] | None]
"""A path (relative to the project, '/'-separated) -> [mode, size, mtime_ns, ctime_ns, inode], or None if absent."""


def state_of(root: Path, paths: Iterable[str]) -> State:
    """The state of ``paths`` under ``root`` and of everything below those that are folders; a symbolic link's
    target is recorded beside it (``path ->``), and followed into only when it is one of ``paths``."""
    state: State = {}
    for path in paths:
        _record(root, path, state, named=True)
    return state


def _record(root: Path, path: str, state: State, named: bool) -> None:
    try:
        found = os.lstat(root / path)
    except OSError:
        state[path] = None
        return
    state[path] = _fields(found)
    if stat.S_ISLNK(found.st_mode):
        try:
            found = os.stat(root / path)
        except OSError:
            state[f"{path} ->"] = None
            return
        state[f"{path} ->"] = _fields(found)
        if not named:
            return
    if stat.S_ISDIR(found.st_mode):
        for name in sorted(os.listdir(root / path)):
            _record(root, f"{path}/{name}", state, named=False)


def _fields(found: os.stat_result) -> list[int]:
    return [found.st_mode, found.st_size, found.st_mtime_ns, found.st_ctime_ns, found.st_ino]


def dvc_files(root: Path) -> list[str] | None:
    """The dvc.yaml, dvc.lock and ``.dvc`` files git shows (tracked or not, unless ignored), as DVC collects its
    stages; None when git cannot say."""
    try:
        listed = run_git(["ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *_DVC_FILES], root)
    except CommandError:  # no git
        return None
    if listed.returncode != 0:  # not a git repository
        return None
    return sorted({name for name in listed.stdout.split("\0") if name})


@dataclass(frozen=True)
class Note:
    definitions: dict[str, str]
    """The DVC files and ``ALWAYS_READ`` -> the md5 of their content ("" if absent): what ``paths`` derive from."""
    paths: list[str]
    """Every path DVC's verdict rests on."""
    state: State | None
    """Their state when DVC last found nothing to do; None when it has not yet, since they last changed."""


def read_note(root: Path) -> Note | None:
    try:
        raw = json.loads((root / NOTE).read_bytes())
        if raw["version"] != _VERSION:
            return None
        return Note(dict(raw["definitions"]), list(raw["paths"]), raw["state"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_note(root: Path, note: Note) -> None:
    from slipway.adapters.files import replace_on_success, write_json  # (only a repro that ran DVC writes one)

    fields = {"version": _VERSION, "definitions": note.definitions, "paths": note.paths, "state": note.state}
    with replace_on_success(root / NOTE) as (written,):
        write_json(fields, written)


def forget(root: Path) -> None:
    (root / NOTE).unlink(missing_ok=True)


def definitions(root: Path, files: Iterable[str]) -> dict[str, str]:
    """``files`` -> the md5 of their content ("" for one that is absent)."""
    digests = {}
    for name in files:
        try:
            digests[name] = hashlib.md5((root / name).read_bytes(), usedforsecurity=False).hexdigest()
        except OSError:
            digests[name] = ""
    return digests


def paths_note(root: Path, definitions_now: dict[str, str]) -> Note | None:
    """A note of the paths DVC's verdict rests on (:func:`watched_paths` and the DVC files themselves), with no
    verdict yet; None when there is none to watch."""
    paths = watched_paths(root)
    return None if paths is None else Note(definitions_now, sorted({*paths, *definitions_now}), None)


def watched_paths(root: Path) -> list[str] | None:
    """Every path DVC's verdict on ``root``'s stages rests on, from DVC's index; None when the verdict may change
    with nothing on disk changing (a stage DVC always runs, an import, a path outside the project) or when DVC
    cannot read the project (DVC then says why, as it runs)."""
    try:
        return _paths_in_index(root)
    except Exception:  # whatever DVC raises on a project it cannot read is its own to report
        return None


def _paths_in_index(root: Path) -> list[str] | None:
    from dvc.fs import LocalFileSystem
    from dvc.repo import Repo

    paths: set[str] = set()
    with Repo(str(root)) as repo:
        project = os.path.realpath(repo.root_dir)
        for stage in repo.index.stages:
            if stage.is_callback or stage.always_changed or stage.is_import or stage.is_repo_import:
                return None
            files = [stage.path, *(os.path.join(stage.wdir, name) for name in getattr(stage, "tracked_vars", {}))]
            for item in (*stage.deps, *stage.outs):
                if not isinstance(item.fs, LocalFileSystem):
                    return None
                files.append(item.fs_path)
            for name in files:
                relative = os.path.relpath(os.path.realpath(name), project)
                if relative.startswith(".."):
                    return None
                paths.add(relative.replace(os.sep, "/"))
    return sorted(paths)


@dataclass
class Watch:
    """Around one plain `dvc repro` in ``root``: the note's paths (``note``: None when they are not known to hold)
    and their state when the repro started (``before``)."""

    root: Path
    listed: list[str] | None
    """The DVC files git showed when the repro started (None: git could not say)."""
    note: Note | None
    before: State | None

    @classmethod
    def start(cls, root: Path) -> Watch:
        """The note read and its paths' state taken: enough to tell :attr:`nothing_changed` (no DVC, milliseconds)."""
        note = read_note(root)
        listed = dvc_files(root)
        if note is None or listed is None or {*listed, *ALWAYS_READ} != set(note.definitions):
            return cls(root, listed, None, None)
        return cls(root, listed, note, state_of(root, note.paths))

    @property
    def nothing_changed(self) -> bool:
        """Whether DVC found every stage up to date and nothing it reads or writes has changed since."""
        return self.note is not None and self.note.state is not None and self.before == self.note.state

    def before_dvc(self) -> None:
        """When the note's paths may not hold (no note, or a DVC file or params.yaml changed), find them in DVC's
        index and take their state, so that this repro can tell whether it changed anything."""
        if self.listed is None:
            return
        now = definitions(self.root, [*self.listed, *ALWAYS_READ])
        if self.note is not None and now == self.note.definitions:
            return
        self.note = paths_note(self.root, now)
        self.before = None if self.note is None else state_of(self.root, self.note.paths)

    def finish(self, exit_code: int) -> None:
        """Note what the repro showed: DVC found nothing to do (exit 0 and nothing changed while it ran), or, after a
        repro that changed things, which paths the next one watches."""
        forget(self.root)
        listed = dvc_files(self.root)
        if exit_code != 0 or listed is None:
            return
        now = definitions(self.root, [*listed, *ALWAYS_READ])
        if self.note is not None and now == self.note.definitions:
            after = state_of(self.root, self.note.paths)
            write_note(self.root, Note(now, self.note.paths, after if after == self.before else None))
            return
        if (paths := paths_note(self.root, now)) is not None:
            write_note(self.root, paths)


def plain(args: Sequence[str]) -> bool:
    """Whether a repro with these arguments is a plain one: every stage of the project, nothing forced, skipped
    or left uncommitted (only ``-q``), so that DVC's exit 0 means it found them all up to date or made them so."""
    return all(arg in ("-q", "--quiet") for arg in args)
