"""Stage `evaluate`: metrics.json and small plot data files on the held-out test split, for data.task."""

from __future__ import annotations

import logging
from pathlib import Path

from slipway.adapters.files import replace_on_success, write_json
from slipway.artifact.persistence import load_model
from slipway.config import Config
from slipway.data.tables import read_table
from slipway.pipeline.evaluation.evaluate import evaluate as evaluate_model
from slipway.pipeline.paths import METRICS, MODEL, PLOTS, PREPARED


def evaluate(
    config: Config,
    *,
    model: Path = MODEL / "model.skops",
    test: Path = PREPARED / "test.parquet",
    metrics: Path = METRICS,
    plots: Path = PLOTS,
) -> None:
    """metrics.json and small plot data files on the held-out test split, for data.task."""
    fitted = load_model(model, config.train.trusted_types)
    df = read_table(test)
    result = evaluate_model(config.data.task, fitted, df[config.features.all], df[config.data.target].to_numpy(),
                            config.evaluate)  # fmt: skip
    with replace_on_success(metrics, plots) as (metrics_file, plots_folder):
        write_json(result.metrics, metrics_file)
        plots_folder.mkdir()
        for name, rows in result.plots.items():
            write_json(rows, plots_folder / name)
    logging.getLogger("evaluate").info("metrics: %s", result.metrics)
