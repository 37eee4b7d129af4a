"""The arithmetic behind the benchmark reports: phase grouping of a profile, growth per 10x rows, act step times,
the critical path of a workflow, percentiles. No timing is asserted here: benchmarks measure, tests check logic."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from benchlib import (
    STARTUP,
    PhaseRule,
    bookkeeping_only,
    critical_path,
    growth_per_tenfold,
    job_walls,
    percentile,
    phase_seconds,
    profile_command,
    run_with_usage,
    shares,
    step_times,
)
from support import project_env


@dataclass
class Node:
    function: str
    time: float
    children: list[Node] = field(default_factory=list)
    file_path: str | None = "/src/slipway/data.py"


RULES = (
    PhaseRule("imports", "_find_and_load"),
    PhaseRule("reading", "read_table", "slipway"),
    PhaseRule("validation", "validate_file", "slipway"),
)


def test_the_innermost_matching_frame_decides_and_the_phases_add_up_to_the_root() -> None:
    # main 10s: 1s own; validate_file 6s (2s own, read_table 3s of which an import 1s, 1s in a helper); other 3s
    tree = Node(
        "main",
        10.0,
        [
            Node(
                "validate_file",
                6.0,
                [Node("read_table", 3.0, [Node("_find_and_load", 1.0, file_path="<frozen>")]), Node("helper", 1.0)],
            ),
            Node("fit", 3.0, file_path="/site-packages/sklearn/pipeline.py"),
        ],
    )
    got = phase_seconds(tree, RULES)
    assert got == {"other": 4.0, "validation": 3.0, "reading": 2.0, "imports": 1.0}
    assert sum(got.values()) == tree.time


def test_a_rule_needs_its_path_part() -> None:
    tree = Node("main", 2.0, [Node("read_table", 2.0, file_path="/site-packages/other/io.py")])
    assert phase_seconds(tree, RULES) == {"other": 2.0}


def test_an_installed_package_is_matched_below_site_packages_not_by_the_checkout_folder_above_it() -> None:
    # `git clone .../slipway` puts the venv in a folder named like the project: pyarrow's read_table is not ours
    checkout = "/home/me/slipway"
    tree = Node(
        "main",
        3.0,
        [
            Node("read_table", 1.0, file_path=f"{checkout}/.venv/lib/python3.11/site-packages/pyarrow/parquet/core.py"),
            Node("read_table", 2.0, file_path=f"{checkout}/src/slipway/data/tables.py"),
        ],
    )
    assert phase_seconds(tree, RULES) == {"other": 1.0, "reading": 2.0}


def test_shares_are_largest_first_and_sum_to_one() -> None:
    rows = shares({"a": 1.0, "b": 3.0})
    assert [r[0] for r in rows] == ["b", "a"] and [r[2] for r in rows] == [0.75, 0.25]


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        ([(100_000, 2.0), (1_000_000, 20.0)], 10.0),  # linear
        ([(100_000, 5.0), (1_000_000, 5.0)], 1.0),  # fixed cost only
        ([(1_000, 1.0), (100_000, 100.0)], 10.0),  # 100x rows, 100x time: still 10 per 10x
    ],
)
def test_growth_per_tenfold(points: list[tuple[int, float]], expected: float) -> None:
    growth = growth_per_tenfold(points)
    assert growth[0] is None and growth[1] == pytest.approx(expected)


def test_percentile_is_nearest_rank() -> None:
    values = list(range(1, 101))
    assert percentile(values, 0.5) == 50 and percentile(values, 0.99) == 99 and percentile(values, 1.0) == 100
    with pytest.raises(ValueError, match="no values"):
        percentile([], 0.5)


def event(job: str, second: int, ids: list[str], **extra: object) -> dict[str, Any]:
    return {"jobID": job, "time": f"2026-01-01T00:00:{second:02d}Z", "stage": "Main", "stepID": ids, **extra}


def test_step_times_prefer_acts_execution_time_and_job_walls_span_the_job() -> None:
    events: list[dict[str, Any]] = [
        event("data", 0, ["0"], step="checkout"),
        event("data", 2, ["0"], step="checkout", stepResult="success"),  # no executionTime: 2 s by the clock
        event("data", 2, ["1"], step="make data-check"),
        event("data", 9, ["1"], step="make data-check", stepResult="success", executionTime=6_500_000_000),
        {"jobID": "data", "msg": "no time: ignored"},
    ]
    steps = step_times(events)
    assert [(s.step, s.seconds, s.result) for s in steps] == [
        ("0 checkout", 2.0, "success"),
        ("1 make data-check", 6.5, "success"),
    ]
    assert job_walls(events) == {"data": 9.0}


def test_the_critical_path_follows_needs() -> None:
    walls = {"tests": 50.0, "data": 20.0, "train": 60.0, "report": 10.0}
    needs = {"train": ["data"], "report": ["tests", "data", "train"]}
    assert critical_path(walls, needs) == (["data", "train", "report"], 90.0)


@pytest.mark.slow
def test_profile_command_splits_a_real_run_into_phases(tmp_path: Path) -> None:
    script = tmp_path / "slipway_stage.py"
    script.write_text(
        textwrap.dedent(
            """
            import time

            def spin(seconds):
                end = time.perf_counter() + seconds
                while time.perf_counter() < end:
                    pass

            def read_table():
                spin(0.3)

            def validate_file():
                read_table()
                spin(0.3)

            validate_file()
            """
        )
    )
    usage, phases = profile_command([sys.executable, str(script)], tmp_path, None, tmp_path / "s.pyisession", RULES)
    assert usage.returncode == 0 and usage.cpu_s > 0 and usage.peak_rss_mib > 0
    assert {"reading", "validation", STARTUP} <= set(phases)
    assert phases["reading"] > 0 and phases["validation"] > 0
    assert sum(phases.values()) == pytest.approx(usage.seconds, rel=0.05)


def test_a_failing_command_under_the_profiler_is_an_error_with_its_output(tmp_path: Path) -> None:
    script = tmp_path / "fails.py"
    script.write_text("print('no table here'); raise SystemExit(2)")
    with pytest.raises(RuntimeError, match=r"failed \(2\)\n(.|\n)*no table here"):
        profile_command([sys.executable, str(script)], tmp_path, None, tmp_path / "s.pyisession", RULES)


@pytest.mark.slow
def test_run_with_usage_kills_the_whole_tree_past_its_timeout(tmp_path: Path) -> None:
    child = "import subprocess, sys; subprocess.run([sys.executable, '-c', 'import time; time.sleep(60)'])"
    usage = run_with_usage([sys.executable, "-c", child], tmp_path, timeout=1)
    assert usage.timed_out and usage.returncode == -9


@pytest.mark.slow
def test_the_bookkeeping_pipeline_runs_no_command_and_keeps_every_output(tmp_path: Path) -> None:
    """DVC's own work measured on the real dvc.yaml: the stages' commands do not run (a command that ran would
    write a new stamp) and their outputs, which DVC removes before a command that does not persist them, stay."""
    env = project_env(tmp_path)
    for command in (["git", "init", "-q"], [sys.executable, "-m", "dvc", "init", "-q"]):
        subprocess.run(command, cwd=tmp_path, env=env, check=True)
    (tmp_path / "dep.txt").write_text("input")
    outputs = ("out.txt", "log.txt", "m.json")
    stamp = f"import pathlib, time; [pathlib.Path(n).write_text(str(time.time_ns())) for n in {outputs!r}]"
    pipeline = {
        "stages": {
            "write": {
                "cmd": f'{sys.executable} -c "{stamp}"',
                "deps": ["dep.txt"],
                "outs": ["out.txt", {"log.txt": {"cache": False}}],
                "metrics": [{"m.json": {"cache": False}}],
            }
        }
    }
    (tmp_path / "dvc.yaml").write_text(yaml.safe_dump(pipeline))
    repro = [sys.executable, "-m", "dvc", "repro", "--force"]
    subprocess.run(repro, cwd=tmp_path, env=env, check=True, capture_output=True)
    written = {name: (tmp_path / name).read_text() for name in outputs}

    (tmp_path / "dvc.yaml").write_text(yaml.safe_dump(bookkeeping_only(pipeline)))
    ran = subprocess.run(repro, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "Running stage 'write'" in ran.stdout
    assert {name: (tmp_path / name).read_text() for name in written} == written
    assert bookkeeping_only(pipeline)["stages"]["write"]["deps"] == ["dep.txt"]
