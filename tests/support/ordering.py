"""The order in which pytest-xdist hands out test files (``--dist loadfile --no-loadscope-reorder``): longest first,
so that the workers finish together instead of one ending alone on a long end-to-end file.

A file's length is what it took last time (kept in pytest's cache by ``remember_durations``), else the estimate
below, measured on a 2-core machine, else a minute for a slow file and a second for any other.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

CACHE_KEY = "slipway/file-seconds"
ESTIMATED_SECONDS = {  # a CI-like run's file totals (three workers on two cores, a slow hour), rounded
    "tests/template/test_copier_update.py": 285,
    "tests/workflows/test_main_workflow.py": 230,
    "tests/pipeline/test_promotion.py": 200,
    "tests/serving/test_container.py": 190,  # its Debian base made beforehand (.ci/run)
    "tests/pipeline/test_adopt_pipeline.py": 180,
    "tests/template/test_copier_answers_and_conflicts.py": 140,
    "tests/template/test_template_update_workflow.py": 115,
    "tests/pipeline/test_repro.py": 85,
    "tests/pipeline/test_adopt_interrupted.py": 85,
    "tests/workflows/test_monitor_workflows.py": 80,
    "tests/workflows/test_pr_workflow.py": 75,
    "tests/review/test_gate_known_cases.py": 70,
    "tests/serving/test_schemathesis.py": 65,
    "tests/workflows/test_pr_comment_workflow.py": 65,
    "tests/pipeline/test_bad_input.py": 60,
    "tests/workflows/test_pr_workflow_gate.py": 55,
    "tests/workflows/test_train_cloud_workflow.py": 55,
    "tests/pipeline/test_stage_imports.py": 50,
    "tests/workflows/test_pr_workflow_bad_data.py": 50,
    "tests/serving/test_http_limits.py": 40,
    "tests/serving/test_uvicorn.py": 30,
    "tests/test_docs.py": 30,
    "tests/serving/test_body.py": 30,
    "tests/review/test_report_paired.py": 30,
    "tests/monitoring/test_simulate.py": 30,
    "tests/release/test_registry.py": 30,
    "tests/adapters/test_dvc.py": 25,
    "tests/pipeline/test_onnx_export.py": 25,
    "tests/review/test_report.py": 25,
    "tests/pipeline/test_stages.py": 20,
    "tests/cli/test_pipeline.py": 15,
    "tests/monitoring/test_monitor_report.py": 15,
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
