"""The reference profile of the training split, stored as JSON: quantile bins, category counts and a sample per
numeric feature (``slipway.data.drift.TableProfile``), so the monitor needs neither the training data nor DVC."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import pandas as pd

from slipway.data.drift import CategoricalProfile, NumericProfile, TableProfile, profile_table

PROFILE_VERSION = 1


@dataclass(frozen=True)
class ReferenceProfile(TableProfile):
    """What the monitor needs to know about the training data, small enough to commit next to the metrics."""

    version: int = PROFILE_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self)) + "\n"

    @classmethod
    def from_json(cls, text: str) -> ReferenceProfile:
        raw = json.loads(text)
        if raw.get("version") != PROFILE_VERSION:
            raise ValueError(f"reference profile version {raw.get('version')!r} is not {PROFILE_VERSION}")
        return cls(
            rows=int(raw["rows"]),
            numeric={name: NumericProfile(**item) for name, item in raw["numeric"].items()},
            categorical={name: CategoricalProfile(**item) for name, item in raw["categorical"].items()},
        )


def build_profile(
    df: pd.DataFrame, numeric: list[str], categorical: list[str], bins: int = 10, sample_size: int = 5000, seed: int = 0
) -> ReferenceProfile:
    """Profile the reference table (the training split): quantile edges, counts, and a seeded sample."""
    if df.empty:
        raise ValueError("cannot profile an empty reference table")
    profile = profile_table(df, numeric, categorical, bins, sample_size, seed)
    return ReferenceProfile(profile.rows, profile.numeric, profile.categorical)
