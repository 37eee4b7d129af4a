"""Stage `prepare`: seeded (stratified) train/test split of the validated, schema-typed table (never the raw file)."""

from __future__ import annotations

import logging
from pathlib import Path

from slipway.adapters.files import replace_on_success
from slipway.config import Config
from slipway.data.tables import read_table, split_rows, take_rows, write_table
from slipway.pipeline.paths import PREPARED, VALIDATED_TABLE


def prepare(config: Config, *, table: Path = VALIDATED_TABLE, out: Path = PREPARED) -> None:
    """Seeded (stratified, for classification) train/test split of the validated table."""
    df = read_table(table)
    stratify = config.data.task != "regression"
    parts = split_rows(df[config.data.target], config.split.test_size, config.split.seed, stratify=stratify)
    with replace_on_success(out) as (folder,):
        for name, rows in zip(("train", "test"), parts, strict=True):  # one split in memory at a time
            write_table(take_rows(df, rows), folder / f"{name}.parquet")
    train, test = (len(rows) for rows in parts)
    logging.getLogger("prepare").info("split %d rows into %d train / %d test", len(df), train, test)
