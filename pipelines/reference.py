"""Stage `reference`: the compact profile of the training split that `slipway monitor` compares production with."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from slipway.config import load_config
from slipway.data import read_table
from slipway.io import replace_on_success
from slipway.monitoring import build_profile
from slipway.stage import run_stage

log = logging.getLogger("reference")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--train", default="outputs/prepared/train.parquet", type=Path)
    parser.add_argument("--out", default="outputs/reference/profile.json", type=Path)
    args = parser.parse_args()

    config = load_config(args.params)
    features, settings = config.features, config.monitor
    profile = build_profile(
        read_table(args.train), features.numeric, features.categorical, settings.bins, settings.sample_size
    )
    with replace_on_success(args.out) as (out,):
        out.write_text(profile.to_json())
    log.info("profiled %d rows, %d features -> %s", profile.rows, len(profile.features), args.out)


if __name__ == "__main__":
    run_stage(main)
