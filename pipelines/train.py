"""Stage `train`: fit the feature pipeline + estimator from params; save it with skops and its metadata."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from slipway.config import load_config
from slipway.data import read_table
from slipway.io import write_json
from slipway.model import build_pipeline, save_model
from slipway.provenance import training_metadata
from slipway.stage import run_stage

log = logging.getLogger("train")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--train", default="outputs/prepared/train.parquet", type=Path)
    parser.add_argument("--out", default="outputs/model", type=Path)
    args = parser.parse_args()

    config = load_config(args.params)
    model = build_pipeline(config.features, config.train, config.data.task)
    df = read_table(args.train)
    model.fit(df[config.features.all], df[config.data.target])
    save_model(model, args.out / "model.skops")
    params = {"features": config.features.model_dump(), "train": config.train.model_dump()}
    write_json(training_metadata(args.train, params), args.out / "metadata.json")
    log.info("trained %s on %d rows -> %s", config.train.model, len(df), args.out / "model.skops")


if __name__ == "__main__":
    run_stage(main)
