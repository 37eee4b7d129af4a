"""What the recording stand-ins (tests/workflows/standins) were asked: one JSON line per call in
``<record folder>/<stand-in>.jsonl``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def records(folder: Path, stand_in: str) -> list[dict[str, Any]]:
    """Every call a stand-in recorded in ``folder``, in order (none when it was never called)."""
    path = folder / f"{stand_in}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def gh_calls(folder: Path) -> list[list[str]]:
    """The arguments of every call to the recording ``gh``."""
    return [call["args"] for call in records(folder, "gh")]
