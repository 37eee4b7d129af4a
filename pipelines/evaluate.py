"""Stage `evaluate`: metrics.json and small plot data files on the held-out test split, for data.task."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from slipway.config import load_config
from slipway.data import read_table
from slipway.evaluation_tasks import evaluate
from slipway.io import replace_on_success, write_json
from slipway.model import load_model
from slipway.stage import run_stage

log = logging.getLogger("evaluate")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--model", default="outputs/model/model.skops", type=Path)
    parser.add_argument("--test", default="outputs/prepared/test.parquet", type=Path)
    parser.add_argument("--metrics", default="outputs/metrics.json", type=Path)
    parser.add_argument("--plots", default="outputs/plots", type=Path)
    args = parser.parse_args()

    config = load_config(args.params)
    model = load_model(args.model, config.train.trusted_types)
    df = read_table(args.test)
    x, y = df[config.features.all], df[config.data.target].to_numpy()
    result = evaluate(config.data.task, model, x, y, config.evaluate)
    with replace_on_success(args.metrics, args.plots) as (metrics, plots):
        write_json(result.metrics, metrics)
        plots.mkdir()
        for name, rows in result.plots.items():
            write_json(rows, plots / name)
    log.info("metrics: %s", result.metrics)


if __name__ == "__main__":
    run_stage(main)
