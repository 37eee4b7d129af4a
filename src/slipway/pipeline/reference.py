"""Stage `reference`: the compact profile of the training split that `slipway monitor` compares production with."""

from __future__ import annotations

import logging
from pathlib import Path

from slipway.adapters.files import replace_on_success
from slipway.config import Config
from slipway.data.tables import read_table
from slipway.monitoring.profile import build_profile
from slipway.pipeline.paths import PREPARED, REFERENCE


def reference(config: Config, *, train: Path = PREPARED / "train.parquet", out: Path = REFERENCE) -> None:
    """The compact profile of the training split that `slipway monitor` compares production with."""
    features = config.features
    table = read_table(train, columns=features.all)
    profile = build_profile(
        table, features.numeric, features.categorical, config.drift.bins, config.monitor.sample_size
    )
    with replace_on_success(out) as (file,):
        file.write_text(profile.to_json())
    logging.getLogger("reference").info("profiled %d rows, %d features -> %s", profile.rows, len(profile.features), out)
