"""Stage `train`: fit the feature pipeline + estimator from params and write the model folder."""

from __future__ import annotations

import logging
from pathlib import Path

from sklearn.pipeline import Pipeline

from slipway.adapters.files import replace_on_success, write_json
from slipway.artifact.persistence import save_model
from slipway.config import Config
from slipway.data.schema import load_schema, model_input_schema, save_schema
from slipway.data.tables import read_table, release_unused_memory
from slipway.pipeline.features import model_input
from slipway.pipeline.model import build_pipeline
from slipway.pipeline.onnx_export import export_if_agrees
from slipway.pipeline.paths import MODEL, PREPARED
from slipway.pipeline.provenance import training_metadata


def fit_model(config: Config, train: Path) -> tuple[Pipeline, int]:
    """The pipeline fitted on the training split (read: its feature and target columns only), and its row count."""
    model = build_pipeline(config.features, config.train, config.data.task)
    df = read_table(train, columns=[*config.features.all, config.data.target])
    x, y = model_input(df, config.features), df[config.data.target]
    del df  # the text columns, now categoricals in ``x``: freed before fitting ...
    release_unused_memory()  # ... and their memory returned, not kept by Arrow through the fit
    model.fit(x, y)
    return model, len(y)


def train(
    config: Config,
    *,
    train: Path = PREPARED / "train.parquet",
    test: Path = PREPARED / "test.parquet",
    out: Path = MODEL,
) -> None:
    """Fit the feature pipeline + estimator; write the model folder: the model (skops), its metadata, its input schema
    (what serving validates requests with) and an ONNX export kept only when it agrees with scikit-learn on the
    held-out test split (read here, never fitted on; a seeded sample of it when it is large, see
    `slipway.pipeline.onnx_export.agreement_rows`)."""
    model, rows = fit_model(config, train)
    params = {"features": config.features.model_dump(), "train": config.train.model_dump()}
    serving = {"target": config.data.target, "threshold": config.evaluate.threshold}
    raw = load_schema(config.data.schema_path)
    inputs = model_input_schema(raw, config.data.target, config.features.all, config.data.id_column)
    with replace_on_success(out) as (folder,):
        save_model(model, folder / "model.skops")
        write_json(training_metadata(train, params, {"serving": serving}), folder / "metadata.json")
        save_schema(inputs, folder / "input_schema.yaml")
        held_out = read_table(test, columns=config.features.all)
        export_if_agrees(model, config.features, held_out, folder, checked_on=str(test))
    logging.getLogger("train").info("trained %s on %d rows -> %s", config.train.model, rows, out / "model.skops")
