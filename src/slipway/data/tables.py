"""Reading and writing tables, and the train/test split."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd


class DataReadError(ValueError):
    """A data file is missing, empty, truncated or in an unknown format."""


def read_table(path: Path | str, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Read CSV or Parquet by extension (only ``columns``, in that order, when given); every failure becomes a
    DataReadError that says why."""
    path = Path(path)
    if not path.exists():
        raise DataReadError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise DataReadError(f"{path}: file is empty")
    if path.suffix not in {".parquet", ".csv", ".txt"}:
        raise DataReadError(f"{path}: unknown format {path.suffix!r} (use .csv or .parquet)")
    wanted = None if columns is None else list(columns)
    try:
        if path.suffix == ".parquet":
            table = pd.read_parquet(path, columns=wanted)
        else:
            table = pd.read_csv(path, on_bad_lines="error", usecols=wanted)
            table = table if wanted is None else table[wanted]
    except Exception as error:
        raise DataReadError(f"{path}: cannot be read ({type(error).__name__}: {error})") from None
    release_unused_memory()  # what decoding used and freed
    return table


def release_unused_memory() -> None:
    """Return to the system the memory Arrow's allocator keeps from buffers already freed (decoding a file, a
    dropped text column). Arrow keeps it for its own reuse; numpy and scikit-learn allocate elsewhere, so until it
    is returned it only adds to the peak (after reading a table of 10M rows, more than half the table's size)."""
    import pyarrow

    pyarrow.default_memory_pool().release_unused()


def write_table(df: pd.DataFrame, path: Path | str) -> None:
    """Write CSV or Parquet by extension, creating the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        df.to_parquet(path, index=False)
    else:
        df.to_csv(path, index=False)


def split_rows(target: pd.Series, test_size: float, seed: int, stratify: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Row positions of the seeded split (stratified on ``target`` for classification): scikit-learn's
    train_test_split, which chooses rows from the target and the row count alone, never from the other columns."""
    from sklearn.model_selection import train_test_split  # only the stages that split pay for importing scikit-learn

    rows = np.arange(len(target))
    train, test = train_test_split(rows, test_size=test_size, random_state=seed, stratify=target if stratify else None)
    return train, test


def take_rows(df: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """The rows at these positions, in this order, numbered from 0."""
    return df.take(rows).reset_index(drop=True)


def split(
    df: pd.DataFrame, target: str, test_size: float, seed: int, stratify: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeded split, stratified on the target for classification."""
    train, test = split_rows(df[target], test_size, seed, stratify)
    return take_rows(df, train), take_rows(df, test)
