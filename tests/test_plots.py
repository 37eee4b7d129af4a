"""The report's charts: real PNGs from the evaluate stage's plot data, with and without a base to compare."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from slipway import evaluation, plots

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def plot_data() -> dict[str, list[dict]]:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    proba = np.clip(y * 0.3 + rng.random(500) * 0.7, 0, 1)
    return {
        "roc": evaluation.roc_points(y, proba, 50),
        "precision_recall": evaluation.pr_points(y, proba, 50),
        "calibration": evaluation.calibration_points(y, proba, 10),
        "confusion": evaluation.confusion_counts(y, proba, 0.5),
        "importance": [{"feature": f, "importance": v, "std": 0.0} for f, v in (("a", 0.1), ("b", 0.02))],
    }


@pytest.mark.parametrize("name", ["roc", "precision_recall", "calibration", "confusion", "importance"])
def test_each_chart_is_a_png_with_or_without_base(tmp_path: Path, plot_data, name: str) -> None:
    draw = getattr(plots, name)
    alone = draw(tmp_path / f"{name}-alone.png", plot_data[name])
    both = draw(tmp_path / f"{name}-both.png", plot_data[name], plot_data[name], "main")
    for path in (alone, both):
        assert path.read_bytes()[:8] == PNG
        assert 2_000 < path.stat().st_size < 80_000  # small enough for a PR comment
    assert both.read_bytes() != alone.read_bytes()  # the base is drawn too


def test_drift_chart(tmp_path: Path) -> None:
    path = plots.drift(tmp_path / "drift.png", {"age": 0.01, "monthly_charges": 0.6}, 0.2)
    assert path.read_bytes()[:8] == PNG
