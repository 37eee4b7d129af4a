"""The reference profile of the training split: quantile bins, category counts and a sample per numeric feature,
so the monitor needs neither the training data nor DVC at run time."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from slipway.data.drift import MISSING, quantile_edges

PROFILE_VERSION = 1


@dataclass(frozen=True)
class NumericProfile:
    """Reference distribution of a numeric feature: inner quantile edges, counts per bin, and a sample for KS."""

    edges: list[float]
    counts: list[int]
    """len(edges) + 1 bins: (-inf, e0), [e0, e1), ..., [e_last, inf)."""
    missing: int
    sample: list[float]


@dataclass(frozen=True)
class CategoricalProfile:
    counts: dict[str, int]
    """Per category; missing values are counted under ``(missing)``."""


@dataclass(frozen=True)
class ReferenceProfile:
    """What the monitor needs to know about the training data, small enough to commit next to the metrics."""

    rows: int
    numeric: dict[str, NumericProfile]
    categorical: dict[str, CategoricalProfile]
    version: int = PROFILE_VERSION

    @property
    def features(self) -> list[str]:
        return [*self.numeric, *self.categorical]

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


def _bin_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts of finite values per bin: (-inf, e0), [e0, e1), ..., [e_last, inf)."""
    return np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)


def _category_counts(values: pd.Series) -> dict[str, int]:
    counts = values.astype("string").fillna(MISSING).value_counts(sort=False)
    return {str(name): int(count) for name, count in sorted(counts.items())}


def build_profile(
    df: pd.DataFrame, numeric: list[str], categorical: list[str], bins: int = 10, sample_size: int = 5000, seed: int = 0
) -> ReferenceProfile:
    """Profile the reference table (the training split): quantile edges, counts, and a seeded sample."""
    if df.empty:
        raise ValueError("cannot profile an empty reference table")
    missing = [name for name in [*numeric, *categorical] if name not in df.columns]
    if missing:
        raise ValueError(f"reference table lacks the features {missing}")
    rng = np.random.default_rng(seed)
    numeric_profiles = {}
    for name in numeric:
        values = pd.to_numeric(df[name], errors="coerce").to_numpy(dtype=float)
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            raise ValueError(f"reference feature {name!r} has no numeric values")
        edges = quantile_edges(pd.Series(finite), bins)
        sample = finite if finite.size <= sample_size else rng.choice(finite, size=sample_size, replace=False)
        numeric_profiles[name] = NumericProfile(
            edges=[float(e) for e in edges],
            counts=[int(c) for c in _bin_counts(finite, edges)],
            missing=int(values.size - finite.size),
            sample=[float(v) for v in np.sort(sample)],
        )
    categorical_profiles = {name: CategoricalProfile(_category_counts(df[name])) for name in categorical}
    return ReferenceProfile(rows=len(df), numeric=numeric_profiles, categorical=categorical_profiles)
