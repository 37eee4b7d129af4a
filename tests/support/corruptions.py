"""Ways a raw demo table goes wrong, each with the words its validation report must contain (the column, the check,
the bad value): the validate stage's own test runs every one in process, the pipeline's test one of each kind
through `dvc repro`."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """``frame`` as the CSV file the demo's raw table is."""
    return frame.to_csv(index=False).encode()


def _drop_column(df: pd.DataFrame) -> bytes:
    return csv_bytes(df.drop(columns=["age"]))


def _extra_column(df: pd.DataFrame) -> bytes:
    return csv_bytes(df.assign(favourite_colour="blue"))


def _wrong_type(df: pd.DataFrame) -> bytes:
    df = df.astype({"tenure_months": object})
    df.loc[[4, 8], "tenure_months"] = "twelve"
    return csv_bytes(df)


def _nulls(df: pd.DataFrame) -> bytes:
    df.loc[[2, 5, 7], "monthly_charges"] = np.nan
    return csv_bytes(df)


def _out_of_range(df: pd.DataFrame) -> bytes:
    df.loc[[1, 3], "age"] = 400
    return csv_bytes(df)


def _unknown_category(df: pd.DataFrame) -> bytes:
    df.loc[6, "contract"] = "lifetime"
    return csv_bytes(df)


def _duplicate_ids(df: pd.DataFrame) -> bytes:
    df.loc[10, "customer_id"] = df.loc[11, "customer_id"]
    return csv_bytes(df)


def _constant_target(df: pd.DataFrame) -> bytes:
    return csv_bytes(df.assign(churned=0))


def _lossy_float_in_int(df: pd.DataFrame) -> bytes:
    df = df.astype({"tenure_months": float})
    df.loc[[4, 8], "tenure_months"] = 12.5
    return csv_bytes(df)


def _lossy_float_target(df: pd.DataFrame) -> bytes:
    df = df.astype({"churned": float})
    df.loc[5, "churned"] = 0.5
    return csv_bytes(df)


def _rare_class(df: pd.DataFrame) -> bytes:
    df = df.head(60).assign(churned=0)
    df.loc[[1, 2, 3], "churned"] = 1  # a churn rate of 0.05 passes the schema; 3 churners cannot be stratified
    return csv_bytes(df)


CORRUPTIONS: dict[str, tuple[Callable[[pd.DataFrame], bytes], list[str]]] = {
    "missing column": (_drop_column, ["age", "missing"]),
    "extra column": (_extra_column, ["favourite_colour", "extra column"]),
    "wrong type": (_wrong_type, ["tenure_months", "twelve"]),
    "nulls": (_nulls, ["monthly_charges", "not_nullable"]),
    "out of range": (_out_of_range, ["age", "in_range", "400"]),
    "unknown category": (_unknown_category, ["contract", "lifetime"]),
    "duplicate ids": (_duplicate_ids, ["customer_id", "unique"]),
    "constant target": (_constant_target, ["churned", "column_has_classes", "needs at least 2 classes"]),
    "12.5 in an integer column": (_lossy_float_in_int, ["tenure_months", "lossy type coercion", "12.5"]),
    "0.5 in the 0/1 target": (_lossy_float_target, ["churned", "lossy type coercion", "0.5"]),
    "boolean target": (lambda df: csv_bytes(df.astype({"churned": bool})), ["churned", "lossy type coercion", "True"]),
    "three rows": (lambda df: csv_bytes(df.head(3)), ["too few rows to split", "3 rows give 2 train / 1 test"]),
    "class too rare to stratify": (_rare_class, ["churned", "too few rows of a class to stratify", "1: 3 rows"]),
    "all-null feature": (
        lambda df: csv_bytes(df.assign(total_charges=np.nan)),
        ["total_charges", "empty in every row"],
    ),
    "empty file": (lambda df: b"", ["file is empty"]),
    "truncated file": (lambda df: csv_bytes(df)[:5_000].rsplit(b",", 3)[0], ["not_nullable"]),
    "not a table": (lambda df: b"\x89PNG\r\n\x1a\n\x00\x00binary", ["cannot be read"]),
}
