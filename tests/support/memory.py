"""Memory of a process, from ``/proc/<pid>/status`` (Linux), and memory measured in a fresh interpreter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def memory_kib(pid: int, key: str) -> int:
    """A ``/proc/<pid>/status`` figure in KiB: ``VmRSS`` (resident now) or ``VmHWM`` (the peak so far)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    raise AssertionError(f"{key} not in /proc/{pid}/status")


def resident_bytes() -> int:
    """This process's resident memory now."""
    return memory_kib(os.getpid(), "VmRSS") * 1024


def measured_in_fresh_interpreter(script: str, *args: str, cwd: Path | None = None) -> float:
    """The number a script prints, run in a new Python process (its memory is the script's alone) that can import
    ``support``."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")]))}
    ran = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, check=True, cwd=cwd,
                         env=env)  # fmt: skip
    return float(ran.stdout)
