"""The order in which pytest-xdist hands out test files (``--dist loadfile --no-loadscope-reorder``): longest first,
so that the workers finish together instead of one ending alone on a long end-to-end file.

A file's length is what it took last time (kept in pytest's cache by ``remember_durations``), else the estimate
below, measured on a 2-core machine, else a minute for a slow file and a second for any other.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

CACHE_KEY = "slipway/file-seconds"
ESTIMATED_SECONDS = {
    "tests/workflows/test_main_workflow.py": 300,
    "tests/workflows/test_pr_workflow.py": 150,
    "tests/serving/test_container.py": 150,
    "tests/pipeline/test_promotion.py": 150,
    "tests/pipeline/test_adopt_pipeline.py": 150,
    "tests/template/test_copier_update.py": 150,
    "tests/pipeline/test_adopt_interrupted.py": 120,
    "tests/workflows/test_monitor_workflows.py": 120,
    "tests/pipeline/test_repro.py": 120,
}


def _file(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]


def _estimate(item: pytest.Item, measured: dict[str, float]) -> float:
    name = _file(item)
    if name in measured:
        return measured[name]
    return ESTIMATED_SECONDS.get(name, 60.0 if item.get_closest_marker("slow") else 1.0)


def order_for_workers(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Sort ``items`` by their file's expected length, longest first (files stay whole, tests keep their order)."""
    cache = getattr(config, "cache", None)  # absent under `-p no:cacheprovider`
    measured = cache.get(CACHE_KEY, {}) if cache else {}
    per_file: dict[str, float] = {}
    for item in items:
        per_file.setdefault(_file(item), _estimate(item, measured))
    items.sort(key=lambda item: -per_file[_file(item)])  # stable


class DurationRecorder:
    """Adds up the time of every test of each file in this run; saved to pytest's cache at the end."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.seconds[report.nodeid.split("::", 1)[0]] += report.duration

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        cache = getattr(session.config, "cache", None)  # absent under `-p no:cacheprovider`
        if cache is None or not self.seconds:
            return
        known = cache.get(CACHE_KEY, {})
        cache.set(CACHE_KEY, known | {name: round(seconds, 1) for name, seconds in self.seconds.items()})


def remember_durations(config: pytest.Config) -> None:
    """Record file durations in the process that sees every report (the xdist controller, or the only process)."""
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(DurationRecorder(), "slipway-durations")
