"""Stage `train`: fit the feature pipeline + estimator from params; save it with skops and its metadata.

Also writes the model's input schema (what the serving API validates requests with) and an ONNX export, kept only
when its probabilities agree with scikit-learn's on the held-out test split (read here, never fitted on) to 1e-6.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from slipway.config import load_config
from slipway.data import read_table
from slipway.io import replace_on_success, write_json
from slipway.model import build_pipeline, save_model
from slipway.onnx_export import export_if_agrees
from slipway.provenance import training_metadata
from slipway.schemas import load_schema, model_input_schema, save_schema
from slipway.stage import run_stage

log = logging.getLogger("train")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--train", default="outputs/prepared/train.parquet", type=Path)
    parser.add_argument("--test", default="outputs/prepared/test.parquet", type=Path)
    parser.add_argument("--out", default="outputs/model", type=Path)
    args = parser.parse_args()

    config = load_config(args.params)
    model = build_pipeline(config.features, config.train, config.data.task)
    df = read_table(args.train)
    model.fit(df[config.features.all], df[config.data.target])
    params = {"features": config.features.model_dump(), "train": config.train.model_dump()}
    serving = {"target": config.data.target, "threshold": config.evaluate.threshold}
    raw = load_schema(config.data.schema_path)
    inputs = model_input_schema(raw, config.data.target, config.features.all, config.data.id_column)
    with replace_on_success(args.out) as (out,):
        save_model(model, out / "model.skops")
        write_json(training_metadata(args.train, params, {"serving": serving}), out / "metadata.json")
        save_schema(inputs, out / "input_schema.yaml")
        export_if_agrees(model, config.features, read_table(args.test), out, checked_on=str(args.test))
    log.info("trained %s on %d rows -> %s", config.train.model, len(df), args.out / "model.skops")


if __name__ == "__main__":
    run_stage(main)
