"""actions/cache stand-in: restores what the test put in the cache store, saves nothing.

The store is $SLIPWAY_ACT_CACHES (the harness's ``caches``): one entry per key, a folder holding the cached path's
contents. As actions/cache, an entry whose key equals ``key`` is a hit; otherwise the newest entry whose key starts
with a restore key (tried in order) is restored and the step reports no hit. A single ``path`` only."""

import os
import shutil
import sys
from pathlib import Path

from record import record


def _entry(store: Path, key: str, restore_keys: list[str]) -> Path | None:
    if (store / key).is_dir():
        return store / key
    entries = sorted((e for e in store.iterdir() if e.is_dir()), key=lambda e: e.stat().st_mtime, reverse=True)
    for prefix in restore_keys:
        for entry in entries:
            if entry.name.startswith(prefix):
                return entry
    return None


def restore(path: str, key: str, restore_keys_input: str) -> None:
    restore_keys = [line.strip() for line in restore_keys_input.splitlines() if line.strip()]
    store = Path(os.environ.get("SLIPWAY_ACT_CACHES") or "/nonexistent")
    entry = _entry(store, key, restore_keys) if store.is_dir() and "\n" not in path.strip() else None
    if entry is not None:
        shutil.copytree(entry, path.strip(), symlinks=True, dirs_exist_ok=True)
    hit = entry is not None and entry.name == key
    with open(os.environ["GITHUB_OUTPUT"], "a") as output:
        output.write(f"cache-hit={str(hit).lower()}\n")
    record("cache", path=path, key=key, **{"restore-keys": restore_keys_input}, restored=entry.name if entry else "")


if __name__ == "__main__":
    restore(*sys.argv[1:4])
