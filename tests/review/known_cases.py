"""Known cases for the gate, built in-process: a model fitted on a seeded split stands in for a revision's evaluate
stage (its metrics, per-row predictions and intervals), without DVC.

Tables: the demo's churn generator (binary), scikit-learn's wine (multiclass) and diabetes (regression).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import yaml
from support import REPO_ROOT

from slipway.config import Config, parse_config
from slipway.data.generator import ChurnSettings, generate_churn
from slipway.data.tables import split
from slipway.metrics.bootstrap import Bootstrap, interval
from slipway.pipeline.evaluation.predictions import metric_inputs, predictions_frame
from slipway.pipeline.model import build_pipeline
from slipway.review.comparison import Comparison, Intervals, Revision, compare
from slipway.review.gate import GateResult, evaluate_gate
from slipway.review.gather import split_key
from slipway.tasks import TASKS

DATA_MD5 = "same-data.dir"
DEFAULT = Bootstrap()


@dataclass(frozen=True)
class Case:
    """A table and the params that describe it."""

    table: pd.DataFrame
    params: dict[str, Any]


def _with(params: dict[str, Any], dotted: dict[str, Any]) -> dict[str, Any]:
    """``params`` with some dotted keys set (``{"train.logreg.C": 1e-5}``)."""
    out = yaml.safe_load(yaml.safe_dump(params))
    for key, value in dotted.items():
        *parents, last = key.split(".")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return out


@cache
def churn() -> Case:
    """The demo: 10,000 churn rows (a 2,000-row test split), the project's own params."""
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    return Case(generate_churn(ChurnSettings(rows=10_000, seed=3)), params)


def demo() -> Case:
    """The demo's own data snapshot (``make data``) and params."""
    from slipway.data.tables import read_table

    path = REPO_ROOT / "data" / "churn.csv"
    if not path.exists():
        import pytest

        pytest.skip("the demo data is not pulled (make data)")
    return Case(read_table(path), yaml.safe_load((REPO_ROOT / "params.yaml").read_text()))


def _sklearn_case(frame: pd.DataFrame, task: str, gate: dict[str, Any]) -> Case:
    features = [c for c in frame.columns if c != "target"]
    params = {
        "data": {"path": "data/x.csv", "target": "target", "id_column": None, "task": task},
        "features": {"numeric": features, "categorical": []},
        "split": {"test_size": 0.2, "seed": 42},
        "train": {"model": "logreg", "seed": 42, "logreg": {"C": 1.0, "max_iter": 5000}},
        "gate": gate,
    }
    return Case(frame, params)


@cache
def wine() -> Case:
    """scikit-learn's wine table: 178 rows, three classes (a 36-row test split)."""
    from sklearn.datasets import load_wine

    lower = TASKS["multiclass"].lower_is_better
    return _sklearn_case(
        load_wine(as_frame=True).frame,
        "multiclass",
        {"lower_is_better": lower, "max_regression": TASKS["multiclass"].max_regression},
    )


@cache
def diabetes() -> Case:
    """scikit-learn's diabetes table: 442 rows, a numeric target (an 89-row test split)."""
    from sklearn.datasets import load_diabetes

    lower = TASKS["regression"].lower_is_better
    return _sklearn_case(
        load_diabetes(as_frame=True).frame,
        "regression",
        {"lower_is_better": lower, "max_regression": TASKS["regression"].max_regression},
    )


def config_of(case: Case, **dotted: Any) -> Config:
    return parse_config(_with(case.params, dotted))


def fit(case: Case, config: Config, resample_seed: int | None = None, data_md5: str = DATA_MD5) -> Revision:
    """One revision: the model of ``config`` fitted on its split of the case's table (on a bootstrap resample of the
    training rows when ``resample_seed`` is given: a model with randomness), scored on its test rows."""
    data, task = config.data, config.data.task
    train, test = split(case.table, data.target, config.split.test_size, config.split.seed, task != "regression")
    if resample_seed is not None:
        train = train.sample(frac=1.0, replace=True, random_state=resample_seed)
    model = build_pipeline(config.features, config.train, task)
    model.fit(train[config.features.all], train[data.target])
    ids = test[data.id_column].to_numpy() if data.id_column else None
    frame = predictions_frame(task, model, test[config.features.all], test[data.target].to_numpy(), ids)
    y, output = metric_inputs(frame, task)
    threshold = config.evaluate.threshold
    ones = np.ones(len(y))
    metrics = {m.name: float(m.function(threshold)(y, output, ones)[0]) for m in TASKS[task].metrics}
    return Revision(metrics, task, threshold, split_key(config, data_md5), None, frame)


def with_intervals(revision: Revision, settings: Bootstrap = DEFAULT) -> Revision:
    """The revision with its intervals.json computed from its predictions (what the evaluate stage records)."""
    assert revision.predictions is not None
    y, output = metric_inputs(revision.predictions, revision.task)
    spec = TASKS[revision.task]
    values = {
        name: interval(spec.metric(name).function(revision.threshold), y, output, settings)
        for name in spec.metric_names
    }
    intervals = Intervals(values, settings, len(y))
    return Revision(
        revision.metrics, revision.task, revision.threshold, revision.split, intervals, revision.predictions
    )


def without_predictions(revision: Revision, why: str) -> Revision:
    return Revision(revision.metrics, revision.task, revision.threshold, revision.split, revision.intervals, None, why)


def gate(new: Revision, base: Revision, config: Config) -> tuple[GateResult, Comparison]:
    """The gate of ``new`` against ``base`` with ``config``'s gate settings, as ``slipway gate`` decides it."""
    gated = [m for m in config.gate.max_regression if m in new.metrics]
    comparison = compare(new, base, gated, Bootstrap())
    return evaluate_gate(new.metrics, base.metrics, config.gate, comparison), comparison


def intervals_doc(intervals: Intervals, metrics: dict[str, float]) -> dict[str, Any]:
    """An ``outputs/intervals.json`` document."""
    settings = intervals.bootstrap
    return {
        "level": settings.level,
        "resamples": settings.resamples,
        "seed": settings.seed,
        "rows": intervals.rows,
        "metrics": {
            name: {"value": metrics[name], "low": ci.low, "high": ci.high} for name, ci in intervals.values.items()
        },
    }
