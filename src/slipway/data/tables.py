"""Reading and writing tables, and the train/test split."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split


class DataReadError(ValueError):
    """A data file is missing, empty, truncated or in an unknown format."""


def read_table(path: Path | str) -> pd.DataFrame:
    """Read CSV or Parquet by extension; every failure becomes a DataReadError that says why."""
    path = Path(path)
    if not path.exists():
        raise DataReadError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise DataReadError(f"{path}: file is empty")
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        if path.suffix in {".csv", ".txt"}:
            return pd.read_csv(path, on_bad_lines="error")
    except Exception as error:
        raise DataReadError(f"{path}: cannot be read ({type(error).__name__}: {error})") from None
    raise DataReadError(f"{path}: unknown format {path.suffix!r} (use .csv or .parquet)")


def write_table(df: pd.DataFrame, path: Path | str) -> None:
    """Write CSV or Parquet by extension, creating the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        df.to_parquet(path, index=False)
    else:
        df.to_csv(path, index=False)


def split(
    df: pd.DataFrame, target: str, test_size: float, seed: int, stratify: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeded split, stratified on the target for classification."""
    train, test = train_test_split(
        df, test_size=test_size, random_state=seed, stratify=df[target] if stratify else None
    )
    return train.reset_index(drop=True), test.reset_index(drop=True)
