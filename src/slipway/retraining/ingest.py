"""Adding a new period of data to the training data (append or replace): the demo's next period, or a table from
any DVC URL."""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from slipway.adapters.dvc import get_url
from slipway.adapters.files import replace_on_success
from slipway.config import Config, RetrainConfig
from slipway.data.generator import ChurnSettings, generate_churn
from slipway.data.tables import read_table, write_table


class IngestError(ValueError):
    """The new period cannot join the training data (or joining it changed nothing); the message says why."""


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
        raise IngestError("the new period has no rows")
    missing = sorted(set(current.columns) - set(new.columns))
    if missing:
        raise IngestError(f"the new period lacks the columns {missing}")
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


def fetch_period(source: str) -> pd.DataFrame:
    """A table (CSV or Parquet) from any DVC URL: s3://, gs://, azure://, ssh://, http(s)://, a path."""
    with tempfile.TemporaryDirectory(prefix="slipway-ingest-") as folder:
        target = Path(folder) / Path(source.rstrip("/")).name
        get_url(source, target)
        return read_table(target)


def ingest(
    config: Config,
    source: str = "demo",
    shift: dict[str, float] | None = None,
    concept_shift: float = 0.0,
    summary_path: Path | str | None = None,
) -> IngestSummary:
    """Add a new period to the training data (``data.path``) as ``retrain.mode`` says: the demo's next period
    (``source="demo"``, with ``shift`` and ``concept_shift``) or the table at ``source``. Writes the summary JSON to
    ``summary_path`` when given; the data file is replaced only once the new table is written in full."""
    current = read_table(config.data.path)
    shifts = dict(shift or {})
    new = next_demo_period(current, config, shifts, concept_shift) if source == "demo" else fetch_period(source)
    combined = combine(current, new, config.retrain)
    with replace_on_success(config.data.path) as (written,):
        write_table(combined, written)
    summary = IngestSummary(source, len(current), len(new), len(combined), config.retrain.mode, shifts)
    if summary_path is not None:
        with replace_on_success(summary_path) as (written,):
            written.write_text(summary.to_json())
    return summary
