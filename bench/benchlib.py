"""Helpers shared by the benchmarks: machine load, timing, results files, and the pure arithmetic of the reports.

Nothing here imports slipway: the benchmarks run the project's real commands and read what they leave behind.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


def load_average() -> list[float]:
    """The 1-, 5- and 15-minute load averages (what `uptime` shows), rounded."""
    return [round(x, 2) for x in os.getloadavg()]


def machine() -> dict[str, Any]:
    """What the figures were measured on: cores, Python, and the load when the run started."""
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "load_avg_start": load_average()}


def timed(action: Callable[[], object]) -> float:
    """Wall seconds of one call."""
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def median_seconds(action: Callable[[], object], repeats: int) -> float:
    """Median wall seconds over ``repeats`` calls (a loaded machine makes single calls noisy)."""
    return statistics.median(timed(action) for _ in range(repeats))


def measured(seconds: float, **extra: Any) -> dict[str, Any]:
    """A figure with the load averages at the moment it was taken."""
    return {"seconds": round(seconds, 4), **extra, "load_avg": load_average()}


def write_results(name: str, data: dict[str, Any], out: Path | None = None) -> Path:
    """Write ``bench/results/<name>.json`` (or ``out``) and return its path."""
    path = out or RESULTS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return path


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank ``q`` quantile (0..1) of ``values``."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A markdown table; floats are shown with three significant digits, large ones with thousands separators."""

    def cell(value: object) -> str:
        if isinstance(value, float):
            return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
        if isinstance(value, int):
            return f"{value:,}"
        return str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


@dataclass
class Usage:
    """One finished command: wall and CPU seconds, the peak resident set (MiB) of its whole process tree, its exit."""

    seconds: float
    cpu_s: float
    peak_rss_mib: float
    returncode: int
    timed_out: bool
    output: str


def run_with_usage(
    command: Sequence[str], cwd: Path, env: dict[str, str] | None = None, timeout: float | None = None
) -> Usage:
    """Run a command in its own session and measure it with ``os.wait4``: the child's resource usage includes every
    descendant it waited for (DVC waits for each stage), so ``ru_maxrss`` is the largest resident set of any process
    in the tree and the CPU time is the tree's. Past ``timeout`` the whole session is killed and the result says so."""
    with tempfile.TemporaryFile() as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            list(command), cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            os.killpg(process.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill) if timeout else None
        if timer:
            timer.start()
        _, status, usage = os.wait4(process.pid, 0)
        if timer:
            timer.cancel()
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        output = log.read().decode(errors="replace")
    return Usage(
        seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, process.returncode, killed.is_set(), output
    )


def run_checked(command: Sequence[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 3600) -> str:
    """Run a command; on failure raise with its output (the benchmark must not report a failed run's time)."""
    result = subprocess.run(list(command), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed ({result.returncode})\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result.stdout


# --- profile grouping ---------------------------------------------------------------------------------------------


class Frame(Protocol):
    """What phase grouping needs of a profiler's call-tree node (pyinstrument's Frame has these); ``time`` is the
    frame's total time, its children's included."""

    @property
    def function(self) -> str: ...
    @property
    def file_path(self) -> str | None: ...
    @property
    def time(self) -> float: ...
    @property
    def children(self) -> Sequence[Any]: ...


@dataclass(frozen=True)
class PhaseRule:
    """Frames named ``function`` (in a file whose path contains ``path_part``) and everything below them belong to
    ``phase``, unless a deeper frame matches another rule: the innermost matching frame decides. An installed
    package's path is read from its ``site-packages`` folder on, so the folders above it (a checkout named like the
    project, holding its venv) match nothing."""

    phase: str
    function: str
    path_part: str = ""

    def matches(self, frame: Frame) -> bool:
        path = frame.file_path or ""
        return frame.function == self.function and self.path_part in path[max(path.rfind("site-packages/"), 0) :]


def phase_seconds(root: Frame, rules: Sequence[PhaseRule], default: str = "other") -> dict[str, float]:
    """Seconds per phase over a call tree: each frame's own time (its time less its children's) goes to the
    innermost matching rule above it, so the phases add up to the root's time."""
    totals: dict[str, float] = {}
    stack: list[tuple[Frame, str]] = [(root, default)]
    while stack:
        frame, inherited = stack.pop()
        phase = next((rule.phase for rule in rules if rule.matches(frame)), inherited)
        own = frame.time - sum(child.time for child in frame.children)
        if own > 0:
            totals[phase] = totals.get(phase, 0.0) + own
        stack.extend((child, phase) for child in frame.children)
    return totals


def shares(seconds: dict[str, float]) -> list[tuple[str, float, float]]:
    """(name, seconds, share of the total) rows, largest first."""
    total = sum(seconds.values())
    ordered = sorted(seconds.items(), key=lambda item: -item[1])
    return [(name, value, value / total if total else 0.0) for name, value in ordered]


# --- scale --------------------------------------------------------------------------------------------------------


def growth_per_tenfold(points: Sequence[tuple[int, float]]) -> list[float | None]:
    """For each size after the first, how much the cost grew per 10x rows since the previous size:
    ``(t2 / t1) ** (1 / log10(n2 / n1))`` (10.0 is linear; below 10, fixed costs still dominate)."""
    out: list[float | None] = [None]
    for (n1, t1), (n2, t2) in itertools.pairwise(points):
        if n2 <= n1 or t1 <= 0 or t2 <= 0:
            out.append(None)
            continue
        out.append((t2 / t1) ** (1 / math.log10(n2 / n1)))
    return out


# --- act logs -----------------------------------------------------------------------------------------------------


def _when(event: dict[str, Any]) -> float | None:
    stamp = event.get("time")
    if not isinstance(stamp, str):
        return None
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


@dataclass
class StepTime:
    job: str
    stage: str
    step: str
    seconds: float
    result: str


def step_times(events: Sequence[dict[str, Any]]) -> list[StepTime]:
    """Each step's wall time from act's JSON log: act's ``executionTime`` on the line carrying the step's result,
    else from the step's first line to that line (act's timestamps are whole seconds).

    A step is (job, stage, step id); nested steps of composite actions are their own entries, so sum only the
    outermost ones (ids of length 1) to avoid counting a composite action twice."""
    first: dict[tuple[str, str, tuple[str, ...]], float] = {}
    steps: list[StepTime] = []
    for event in events:
        when = _when(event)
        ids = tuple(event.get("stepID") or event.get("stepid") or ())
        if when is None or not ids:
            continue
        key = (event.get("jobID", ""), event.get("stage", ""), ids)
        first.setdefault(key, when)
        if "stepResult" in event:
            name = event.get("step", "?")
            took = event.get("executionTime")  # act's own measure, in nanoseconds, when it gives one
            seconds = took / 1e9 if isinstance(took, int | float) else when - first[key]
            steps.append(StepTime(key[0], key[1], f"{'/'.join(ids)} {name}", seconds, event["stepResult"]))
    return steps


def job_walls(events: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Each job's wall time: its first to its last log line."""
    spans: dict[str, list[float]] = {}
    for event in events:
        when, job = _when(event), event.get("jobID")
        if when is None or not job:
            continue
        span = spans.setdefault(job, [when, when])
        span[0], span[1] = min(span[0], when), max(span[1], when)
    return {job: end - start for job, (start, end) in spans.items()}


def critical_path(walls: dict[str, float], needs: dict[str, list[str]]) -> tuple[list[str], float]:
    """The chain of jobs (through ``needs``) with the largest summed wall time, and that sum."""
    best: dict[str, tuple[float, list[str]]] = {}

    def finish(job: str) -> tuple[float, list[str]]:
        if job not in best:
            before = max((finish(n) for n in needs.get(job, []) if n in walls), default=(0.0, []))
            best[job] = (before[0] + walls[job], [*before[1], job])
        return best[job]

    total, chain = max((finish(job) for job in walls), default=(0.0, []))
    return chain, total


def bookkeeping_only(pipeline: dict[str, Any]) -> dict[str, Any]:
    """A dvc.yaml's content with every stage's command ``true`` and every output kept (``persist``), the rest as it
    was: `dvc repro --force` of it does DVC's own work for that pipeline (start, each stage's dependency checks, the
    outputs' hashes and cache, the lock updates, the end) without the stages' work. DVC removes a stage's outputs
    before running its command unless they persist; here they must stay, since ``true`` writes nothing."""

    def kept(entries: list[Any]) -> list[dict[str, Any]]:
        pairs = [(entry, None) if isinstance(entry, str) else next(iter(entry.items())) for entry in entries]
        return [{path: {**(options or {}), "persist": True}} for path, options in pairs]

    stages = {
        name: {
            **stage,
            "cmd": "true",
            **{kind: kept(stage[kind]) for kind in ("outs", "metrics", "plots") if kind in stage},
        }
        for name, stage in pipeline.get("stages", {}).items()
    }
    return {**pipeline, "stages": stages}


def profiled(command: Sequence[str], out: Path) -> list[str]:
    """``command`` run under pyinstrument, its session saved to ``out``: ``python script ...`` (any interpreter
    path) keeps the script,
    anything else (a console script such as ``slipway``) is looked up on PATH."""
    profiler = [sys.executable, "-m", "pyinstrument", "-i", "0.005", "-r", "pyisession", "-o", str(out)]
    if Path(command[0]).name.startswith("python"):
        return [*profiler, *command[1:]]
    return [*profiler, "--from-path", *command]


STARTUP = "interpreter start-up, exit, profiler"


def profile_command(
    command: Sequence[str], cwd: Path, env: dict[str, str] | None, session_file: Path, rules: Sequence[PhaseRule]
) -> tuple[Usage, dict[str, float]]:
    """Run ``command`` under pyinstrument (sampling every 5 ms); its usage and wall seconds per phase. What the
    profiler did not see (the interpreter starting and exiting, the profiler's own start and save) is ``STARTUP``.
    The profiler hooks every Python call, so call-heavy code (imports above all) looks somewhat slower than it is."""
    from pyinstrument.session import Session

    usage = run_with_usage(profiled(command, session_file), cwd, env)
    if usage.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({usage.returncode})\n{usage.output[-3000:]}")
    session = Session.load(str(session_file))
    root = session.root_frame(trim_stem=False)
    phases = phase_seconds(root, rules) if root else {}
    phases[STARTUP] = max(0.0, usage.seconds - session.duration)
    return usage, phases
