"""Bad data stops the pipeline at `validate` with a report; bad params fail fast naming the key. (slow)"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
import yaml
from support import run

from slipway.artifact.digest import file_md5

pytestmark = pytest.mark.slow
DATA = "data/churn.csv"
MODEL = "outputs/model/model.skops"
VALIDATED = "outputs/validated/table.parquet"


def _rewrite(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def _drop_column(df):
    return _rewrite(df.drop(columns=["age"]))


def _extra_column(df):
    return _rewrite(df.assign(favourite_colour="blue"))


def _wrong_type(df):
    df = df.astype({"tenure_months": object})
    df.loc[[4, 8], "tenure_months"] = "twelve"
    return _rewrite(df)


def _nulls(df):
    df.loc[[2, 5, 7], "monthly_charges"] = np.nan
    return _rewrite(df)


def _out_of_range(df):
    df.loc[[1, 3], "age"] = 400
    return _rewrite(df)


def _unknown_category(df):
    df.loc[6, "contract"] = "lifetime"
    return _rewrite(df)


def _duplicate_ids(df):
    df.loc[10, "customer_id"] = df.loc[11, "customer_id"]
    return _rewrite(df)


def _constant_target(df):
    return _rewrite(df.assign(churned=0))


def _lossy_float_in_int(df):
    df = df.astype({"tenure_months": float})
    df.loc[[4, 8], "tenure_months"] = 12.5
    return _rewrite(df)


def _lossy_float_target(df):
    df = df.astype({"churned": float})
    df.loc[5, "churned"] = 0.5
    return _rewrite(df)


def _rare_class(df):
    df = df.head(60).assign(churned=0)
    df.loc[[1, 2, 3], "churned"] = 1  # a churn rate of 0.05 passes the schema; 3 churners cannot be stratified
    return _rewrite(df)


CORRUPTIONS = {
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
    "boolean target": (lambda df: _rewrite(df.astype({"churned": bool})), ["churned", "lossy type coercion", "True"]),
    "three rows": (lambda df: _rewrite(df.head(3)), ["too few rows to split", "3 rows give 2 train / 1 test"]),
    "class too rare to stratify": (_rare_class, ["churned", "too few rows of a class to stratify", "1: 3 rows"]),
    "all-null feature": (lambda df: _rewrite(df.assign(total_charges=np.nan)), ["total_charges", "empty in every row"]),
    "empty file": (lambda df: b"", ["file is empty"]),
    "truncated file": (lambda df: _rewrite(df)[:5_000].rsplit(b",", 3)[0], ["not_nullable"]),
    "not a table": (lambda df: b"\x89PNG\r\n\x1a\n\x00\x00binary", ["cannot be read"]),
}


@pytest.mark.parametrize("kind", list(CORRUPTIONS))
def test_bad_data_stops_at_validate_and_keeps_the_model(repro_clone, kind):
    original = (repro_clone / DATA).read_bytes()
    model_before = file_md5(repro_clone / MODEL)
    corrupt, expected = CORRUPTIONS[kind]
    (repro_clone / DATA).write_bytes(corrupt(pd.read_csv(io.BytesIO(original))))
    try:
        result = run(["dvc", "repro"], repro_clone, check=False)
    finally:
        (repro_clone / DATA).write_bytes(original)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Running stage 'validate'" in output
    assert "Running stage 'prepare'" not in output
    report = (repro_clone / "outputs/validation/report.md").read_text()
    for word in expected:
        assert word in output, f"{word!r} not in the stage output:\n{output}"
        assert word in report, f"{word!r} not in the written report:\n{report}"
    assert file_md5(repro_clone / MODEL) == model_before


def test_a_lossless_float_target_trains_the_same_model(repro_clone):
    """0.0/1.0 where the schema says int64: validation accepts it (no value changes) and hands on the same typed
    table, so nothing after validate runs again and the model is the same file."""
    original = (repro_clone / DATA).read_bytes()
    run(["dvc", "repro"], repro_clone)  # the table may be missing after a failed validate
    model_before, table_before = file_md5(repro_clone / MODEL), file_md5(repro_clone / VALIDATED)
    floats = pd.read_csv(io.BytesIO(original)).astype({"churned": float})
    (repro_clone / DATA).write_bytes(_rewrite(floats))
    assert b",1.0\n" in (repro_clone / DATA).read_bytes()
    try:
        result = run(["dvc", "repro"], repro_clone)
    finally:
        (repro_clone / DATA).write_bytes(original)
    output = result.stdout + result.stderr
    assert "Running stage 'validate'" in output and "Running stage 'prepare'" not in output
    assert file_md5(repro_clone / VALIDATED) == table_before
    assert file_md5(repro_clone / MODEL) == model_before


@pytest.mark.parametrize(
    ("section", "key", "value", "named"),
    [
        ("train", "model", "xgboostt", "train.model"),
        ("split", "test_size", -0.2, "split.test_size"),
        ("evaluate", "threshold", 1.5, "evaluate.threshold"),
    ],
)
def test_bad_params_fail_fast_naming_the_key(repro_clone, section, key, value, named):
    params = repro_clone / "params.yaml"
    original = params.read_text()
    raw = yaml.safe_load(original)
    raw[section][key] = value
    params.write_text(yaml.safe_dump(raw))
    try:
        result = run(["dvc", "repro"], repro_clone, check=False)
    finally:
        params.write_text(original)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert named in output
    assert "Traceback" not in output
