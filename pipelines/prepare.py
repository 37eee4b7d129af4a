"""Stage `prepare`: seeded (stratified) train/test split of the validated, schema-typed table (never the raw file)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from slipway.config import load_config
from slipway.data import read_table, split, write_table
from slipway.io import replace_on_success
from slipway.stage import run_stage

log = logging.getLogger("prepare")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--table", default="outputs/validated/table.parquet", type=Path)
    parser.add_argument("--out", default="outputs/prepared", type=Path)
    args = parser.parse_args()

    config = load_config(args.params)
    df = read_table(args.table)
    train, test = split(
        df,
        config.data.target,
        config.split.test_size,
        config.split.seed,
        stratify=config.data.task != "regression",
    )
    with replace_on_success(args.out) as (out,):
        write_table(train, out / "train.parquet")
        write_table(test, out / "test.parquet")
    log.info("split %d rows into %d train / %d test", len(df), len(train), len(test))


if __name__ == "__main__":
    run_stage(main)
