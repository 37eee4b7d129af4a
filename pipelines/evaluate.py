"""Stage `evaluate`: metrics.json and small plot data files on the held-out test split."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from slipway import evaluation
from slipway.config import load_config
from slipway.data import read_table
from slipway.io import write_json
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
    settings = config.evaluate
    model = load_model(args.model)
    df = read_table(args.test)
    x, y = df[config.features.all], df[config.data.target].to_numpy()
    proba = model.predict_proba(x)[:, 1]

    metrics = evaluation.binary_metrics(y, proba, settings.threshold)
    write_json(metrics, args.metrics)
    write_json(evaluation.roc_points(y, proba, settings.curve_points), args.plots / "roc.json")
    write_json(evaluation.pr_points(y, proba, settings.curve_points), args.plots / "precision_recall.json")
    write_json(evaluation.confusion_counts(y, proba, settings.threshold), args.plots / "confusion.json")
    write_json(
        evaluation.calibration_points(y, proba, settings.calibration_bins),
        args.plots / "calibration.json",
    )
    importance = evaluation.feature_importance(
        model, x, y, settings.importance_repeats, settings.importance_max_rows, settings.seed
    )
    write_json(importance, args.plots / "importance.json")
    log.info("metrics: %s", metrics)


if __name__ == "__main__":
    run_stage(main)
