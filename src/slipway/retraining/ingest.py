"""Adding a new period of data to the training data (append or replace), and the demo's next period."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import pandas as pd

from slipway.config import Config, RetrainConfig
from slipway.data.generator import ChurnSettings, generate_churn


@dataclass(frozen=True)
class IngestSummary:
    """What an ingestion changed; written next to the data step's outputs and quoted in the PR body."""

    source: str
    rows_before: int
    rows_new: int
    rows_after: int
    mode: str
    shift: dict[str, float]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"


def combine(current: pd.DataFrame, new: pd.DataFrame, settings: RetrainConfig) -> pd.DataFrame:
    """Append (keeping the newest ``max_rows``) or replace; the columns must match the current table's."""
    if new.empty:
        raise ValueError("the new period has no rows")
    missing = sorted(set(current.columns) - set(new.columns))
    if missing:
        raise ValueError(f"the new period lacks the columns {missing}")
    if settings.mode == "replace":
        return new[list(current.columns)].reset_index(drop=True)
    combined = pd.concat([current, new[list(current.columns)]], ignore_index=True)
    if settings.max_rows is not None and len(combined) > settings.max_rows:
        combined = combined.iloc[len(combined) - settings.max_rows :].reset_index(drop=True)
    return combined


def next_demo_period(
    current: pd.DataFrame, config: Config, shift: dict[str, float] | None = None, concept_shift: float = 0.0
) -> pd.DataFrame:
    """The generator's next period: ids continue after the current ones; the seed follows from them."""
    id_column = config.data.id_column or "customer_id"
    numbers = pd.to_numeric(current[id_column].astype(str).str.extract(r"(\d+)$")[0], errors="coerce")
    offset = int(numbers.max()) + 1 if numbers.notna().any() else 0
    settings = ChurnSettings(
        rows=config.retrain.demo_rows,
        seed=offset,
        id_offset=offset,
        numeric_shift=dict(shift or {}),
        concept_shift=concept_shift,
    )
    return generate_churn(settings)
