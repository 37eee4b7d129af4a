"""Comparing a revision with its base: paired only on the very same test rows, else unpaired (and the reason), else
values only; intervals.json read defensively."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from slipway.metrics.bootstrap import Bootstrap, Interval, change_from_intervals, paired_changes
from slipway.review.comparison import (
    Intervals,
    Revision,
    SplitKey,
    at_level,
    compare,
    parse_intervals,
    predictions_problem,
    why_not_paired,
    worsening,
)
from slipway.tasks import TASKS

ROC = TASKS["binary"].metric("roc_auc").function(0.5)
SETTINGS = {"split.test_size": 0.2, "split.seed": 42, "data.target": "churned", "data.id_column": "customer_id"}
FAST = Bootstrap(resamples=300)


def _frames(rows: int = 600, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two models' predictions on the same rows; the second is the first plus noise (a somewhat worse model)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, rows)
    score = np.clip(0.3 * y + 0.7 * rng.random(rows), 0, 1)
    noisy = np.clip(score + rng.normal(0, 0.15, rows), 0, 1)
    ids = [f"C{i:05d}" for i in range(rows)]
    good = pd.DataFrame({"id": ids, "label": y, "y": y, "score": score})
    return good, good.assign(score=noisy)


def _revision(frame: pd.DataFrame | None, md5: str = "d.dir", /, **settings: object) -> Revision:
    assert frame is not None
    ones = np.ones(len(frame))
    metrics = {"roc_auc": float(ROC(frame["y"].to_numpy(), frame["score"].to_numpy(), ones)[0])}
    return Revision(metrics, "binary", 0.5, SplitKey(md5, SETTINGS | settings), None, frame)


def test_the_same_rows_are_compared_paired() -> None:
    base, new = _frames()
    current, old = _revision(new), _revision(base)
    assert why_not_paired(current, old) is None
    comparison = compare(current, old, ["roc_auc"], FAST)
    assert comparison.kind == "paired" and "same 600 test rows" in comparison.note
    y = base["y"].to_numpy()
    expected = paired_changes({"roc_auc": (ROC, ROC)}, y, new["score"].to_numpy(), base["score"].to_numpy(), FAST)
    delta, interval = expected["roc_auc"]
    change = comparison.changes["roc_auc"]
    assert (change.delta, change.interval, change.rows) == (delta, interval, 600)
    assert change.delta == pytest.approx(current.metrics["roc_auc"] - old.metrics["roc_auc"])


@pytest.mark.parametrize(
    ("base_md5", "settings", "reason"),
    [
        ("other.dir", {}, "the data changed (`other.dir` → `d.dir`)"),
        ("d.dir", {"split.seed": 7}, "the split settings changed (`split.seed` 7 → 42)"),
        ("d.dir", {"data.id_column": None}, "the split settings changed (`data.id_column` None → 'customer_id')"),
    ],
)
def test_other_data_or_split_settings_are_not_paired(base_md5: str, settings: dict, reason: str) -> None:
    base, new = _frames()
    current, old = _revision(new), _revision(base, base_md5, **settings)
    said = why_not_paired(current, old)
    assert said is not None and said.startswith(reason) and "may have trained on some of" in said
    comparison = compare(current, old, ["roc_auc"], FAST)
    assert comparison.kind == "unpaired" and reason in comparison.note
    assert "each revision is resampled on its own test rows" in comparison.note


def test_other_row_ids_are_not_paired_even_with_the_same_settings() -> None:
    base, new = _frames()
    shuffled = base.iloc[::-1].reset_index(drop=True)
    assert "the test rows differ" in (why_not_paired(_revision(new), _revision(shuffled)) or "")
    relabelled = base.assign(y=1 - base["y"])
    assert "the test rows differ" in (why_not_paired(_revision(new), _revision(relabelled)) or "")


def test_pairing_narrows_the_interval_of_the_change() -> None:
    base, new = _frames(rows=2000, seed=1)
    paired = compare(_revision(new), _revision(base), ["roc_auc"], FAST).changes["roc_auc"]
    unpaired = compare(_revision(new), _revision(base, **{"split.seed": 1}), ["roc_auc"], FAST).changes["roc_auc"]
    assert unpaired.kind == "unpaired" and paired.kind == "paired"
    assert paired.delta == pytest.approx(unpaired.delta)
    assert paired.interval.half_width < unpaired.interval.half_width / 2


def _with_intervals(revision: Revision, low: float, high: float, level: float = 0.95) -> Revision:
    intervals = Intervals({"roc_auc": Interval(low, high)}, Bootstrap(level=level), 2000)
    return Revision(revision.metrics, "binary", 0.5, revision.split, intervals, None, "not pushed")


def test_without_the_base_predictions_the_two_intervals_are_combined_or_values_compared() -> None:
    base, new = _frames()
    current = _with_intervals(_revision(new), 0.70, 0.74)
    old = _with_intervals(_revision(base), 0.78, 0.82)
    comparison = compare(current, old, ["roc_auc"], FAST)
    assert comparison.kind == "unpaired"
    assert "the base's per-row predictions are not available (not pushed)" in comparison.note
    expected = change_from_intervals(
        current.metrics["roc_auc"], Interval(0.70, 0.74), old.metrics["roc_auc"], Interval(0.78, 0.82)
    )
    change = comparison.changes["roc_auc"]
    assert (change.delta, change.interval) == expected and change.rows == 2000
    bare = Revision(old.metrics, "binary", 0.5, old.split, None, None, "not pushed")
    values_only = compare(current, bare, ["roc_auc"], FAST)
    assert values_only.kind == "point" and values_only.changes == {}
    assert values_only.note.startswith("values only: the base's per-row predictions are not available")


def test_worsening_follows_the_metric_direction() -> None:
    base, new = _frames()
    change = compare(_revision(new), _revision(base), ["roc_auc"], FAST).changes["roc_auc"]
    point, interval = worsening(change, lower_is_better=False)
    assert point == -change.delta and interval == Interval(-change.interval.high, -change.interval.low)
    assert worsening(change, lower_is_better=True) == (change.delta, change.interval)


def test_intervals_json_is_read_defensively() -> None:
    doc = {
        "level": 0.9,
        "resamples": 500,
        "seed": 7,
        "rows": 2000,
        "metrics": {"roc_auc": {"value": 0.81, "low": 0.79, "high": 0.83}, "f1": {"value": 0.5}, "bad": "x"},
    }
    parsed = parse_intervals(doc)
    assert parsed == Intervals({"roc_auc": Interval(0.79, 0.83)}, Bootstrap(500, 0.9, 7), 2000)
    broken_docs: tuple[object, ...] = (
        None,
        [],
        {"metrics": {}},
        {"level": 95, "metrics": {}},
        {"level": 0.95, "metrics": []},
    )
    for broken in broken_docs:
        assert parse_intervals(broken) is None
    defaults = parse_intervals({"level": 0.95, "metrics": {}})
    assert defaults is not None and defaults.bootstrap == Bootstrap() and defaults.rows == 0


def test_an_interval_at_another_level_is_rescaled() -> None:
    wide = at_level(Interval(0.79, 0.83), 0.81, 0.95, 0.99)
    assert wide.low < 0.79 and wide.high > 0.83
    assert wide.half_width == pytest.approx(0.02 * 2.5758 / 1.9600, rel=1e-3)
    assert at_level(Interval(0.79, 0.83), 0.81, 0.95, 0.95) == Interval(0.79, 0.83)
    assert math.isclose(
        at_level(Interval(0.79, 0.83), 0.81, 0.95, 0.90).half_width, 0.02 * 1.6449 / 1.9600, rel_tol=1e-3
    )


@pytest.mark.parametrize(
    ("frame", "task", "problem"),
    [
        (pd.DataFrame({"id": [1], "y": [1]}), "binary", "no column score"),
        (pd.DataFrame({"id": [1], "y": [1.0], "score": ["high"]}), "binary", "not numbers: score"),
        (pd.DataFrame({"id": [], "y": [], "prediction": []}), "regression", "no rows"),
        (pd.DataFrame({"id": [1], "y": [0], "score": [0.2]}), "multiclass", "no column p:<class>"),
        (pd.DataFrame({"id": [1], "y": [0], "p:a": [0.2], "p:b": [0.8]}), "multiclass", None),
    ],
)
def test_a_predictions_file_that_cannot_be_used_is_named_not_trusted(frame, task, problem) -> None:
    assert predictions_problem(frame, task) == problem


def test_a_broken_predictions_file_makes_the_comparison_unpaired_not_a_crash(tmp_path) -> None:
    from slipway.review.gather import read_predictions

    path = tmp_path / "test.parquet"
    pd.DataFrame({"id": ["a"], "label": [1]}).to_parquet(path)
    frame, why = read_predictions(path, "binary")
    assert frame is None and why == "`outputs/predictions/test.parquet` is unusable: no column y, score"
    path.write_bytes(b"PAR1 not really")
    frame, why = read_predictions(path, "binary")
    assert frame is None and "cannot be read" in why
    base, _ = _frames()
    current = Revision({"roc_auc": 0.8}, "binary", 0.5, SplitKey("d.dir", SETTINGS), None, None, why)
    comparison = compare(current, _revision(base), ["roc_auc"], FAST)
    assert comparison.kind == "point" and "this revision's per-row predictions are not available" in comparison.note
