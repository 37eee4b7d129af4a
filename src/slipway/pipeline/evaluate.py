"""Stage `evaluate`: on the held-out test split, for data.task, metrics.json, intervals.json (bootstrap intervals of
each metric), small plot data files and the per-row predictions."""

from __future__ import annotations

import logging
from pathlib import Path

from slipway.adapters.files import replace_on_success, write_json
from slipway.artifact.persistence import load_model
from slipway.config import Config
from slipway.data.tables import read_table, write_table
from slipway.pipeline.evaluation.evaluate import evaluate as evaluate_model
from slipway.pipeline.features import model_input
from slipway.pipeline.paths import INTERVALS, METRICS, MODEL, PLOTS, PREDICTIONS, PREPARED


def evaluate(
    config: Config,
    *,
    model: Path = MODEL / "model.skops",
    test: Path = PREPARED / "test.parquet",
    metrics: Path = METRICS,
    plots: Path = PLOTS,
    predictions: Path = PREDICTIONS,
    intervals: Path = INTERVALS,
) -> None:
    """metrics.json, intervals.json, plot data files and per-row predictions of the held-out test split."""
    fitted = load_model(model, config.train.trusted_types)
    df = read_table(test)
    id_column = config.data.id_column
    ids = df[id_column].to_numpy() if id_column else None
    x = model_input(df, config.features)  # as train fitted it: the same predictions, scored faster
    result = evaluate_model(config.data.task, fitted, x, df[config.data.target].to_numpy(), config.evaluate, ids)
    with replace_on_success(metrics, plots, predictions, intervals) as (metrics_file, plots_folder, rows, bounds):
        write_json(result.metrics, metrics_file)
        plots_folder.mkdir()
        for name, plot_rows in result.plots.items():
            write_json(plot_rows, plots_folder / name)
        write_table(result.predictions, rows)
        write_json(result.intervals, bounds)
    logging.getLogger("evaluate").info("metrics: %s", result.metrics)
