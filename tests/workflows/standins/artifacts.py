"""upload-artifact / download-artifact stand-ins: artifacts are folders under $SLIPWAY_ACT_RECORD/artifacts/<name>.

Upload keeps paths relative to the least common ancestor of the matched paths, as actions/upload-artifact does;
download copies an artifact's files into the target folder (all artifacts into <path>/<name> when no name)."""

import glob
import os
import shutil
import sys
from pathlib import Path

from record import record

STORE = Path(os.environ.get("SLIPWAY_ACT_RECORD") or ".") / "artifacts"


def _hidden(path: Path) -> bool:
    return any(part.startswith(".") and part not in (".", "..") for part in path.parts)


def _files(patterns: list[str], include_hidden: bool) -> list[Path]:
    included: set[Path] = set()
    excluded: set[Path] = set()
    for pattern in patterns:
        target = excluded if pattern.startswith("!") else included
        for match in glob.glob(pattern.lstrip("!"), recursive=True, include_hidden=True):
            path = Path(match)
            found = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
            if not include_hidden:  # as actions/upload-artifact: hidden files only when asked for
                found = [p for p in found if not _hidden(p.relative_to(path) if path.is_dir() else p)]
            target.update(p.resolve() for p in found)
    return sorted(included - excluded)


def upload(name: str, path_input: str, if_none: str, include_hidden: bool = False) -> int:
    patterns = [line.strip() for line in path_input.splitlines() if line.strip()]
    files = _files(patterns, include_hidden)
    if not files:
        message = f"No files were found with the provided path: {path_input.strip()}. No artifacts will be uploaded."
        if if_none == "error":
            print(f"::error::{message}")
            return 1
        print(f"::warning::{message}" if if_none == "warn" else message)
        return 0
    roots = [Path(p.lstrip("!")).resolve() for p in patterns if not p.startswith("!")]
    bases = [r if r.is_dir() else r.parent for r in roots if r.exists()] or [files[0].parent]
    root = Path(os.path.commonpath(bases))
    target = STORE / name
    if target.exists():
        print(f"::error::an artifact named {name!r} already exists in this run")
        return 1
    for file in files:
        destination = target / file.relative_to(root)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file, destination)
    listed = sorted(str(f.relative_to(root)) for f in files)
    record("upload-artifact", name=name, files=listed)
    print(f"uploaded {len(files)} file(s) as artifact {name!r}")
    return 0


def download(name: str, path_input: str, run_id: str = "") -> int:
    """Symbolic links stay links (a crafted artifact may hold them: the stand-in must not defuse it)."""
    destination = Path(path_input or ".")
    if name:
        source = STORE / name
        if not source.is_dir():
            print(f"::error::Artifact not found for name: {name}")
            return 1
        shutil.copytree(source, destination, dirs_exist_ok=True, symlinks=True)
        names = [name]
    else:
        names = sorted(p.name for p in STORE.iterdir()) if STORE.is_dir() else []
        for each in names:
            shutil.copytree(STORE / each, destination / each, dirs_exist_ok=True, symlinks=True)
    record("download-artifact", name=name, path=str(destination), artifacts=names, run_id=run_id)
    print(f"downloaded {names} into {destination}")
    return 0


if __name__ == "__main__":
    verb = sys.argv[1]
    if verb == "upload":
        hidden = os.environ.get("INCLUDE_HIDDEN", "false") == "true"
        sys.exit(upload(os.environ["NAME"], os.environ["ARTIFACT_PATH"], os.environ.get("IF_NONE", "warn"), hidden))
    sys.exit(download(os.environ.get("NAME", ""), os.environ.get("ARTIFACT_PATH", ""), os.environ.get("RUN_ID", "")))
