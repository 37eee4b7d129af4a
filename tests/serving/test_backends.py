"""The two backends agree, and the validator's fast path never accepts what pandera rejects."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.budgets import examples
from support.demo import VALID

from slipway.serving.checks import accept_columns, accept_rows
from slipway.serving.model import load_served_model
from slipway.serving.validation import ROW_PATH_MAX_RECORDS, RequestInvalid, ValidatedBatch


def test_onnx_and_sklearn_agree_on_the_test_split(model_dir: Path, test_split: pd.DataFrame) -> None:
    onnx = load_served_model(model_dir, "onnx")
    sklearn = load_served_model(model_dir, "sklearn")
    assert (onnx.backend, sklearn.backend) == ("onnx", "sklearn")
    records = json.loads(test_split.drop(columns=["churned"]).to_json(orient="records"))
    assert any(r["total_charges"] is None for r in records)  # missing values take part too
    batch = onnx.validator.validate(records)
    got, expected = onnx.outputs(batch), sklearn.outputs(batch)
    assert got.shape == expected.shape == (len(test_split), 2)
    assert float(np.max(np.abs(got - expected))) <= 1e-6
    assert onnx.predict(batch).labels == [int(p >= onnx.threshold) for p in got[:, 1]]
    check = json.loads((model_dir / "onnx_check.json").read_text())
    assert check["agrees"] and check["max_abs_diff"] <= 1e-6 and check["rows"] == len(test_split)


def test_auto_falls_back_to_sklearn_without_an_export(sklearn_model_dir: Path) -> None:
    model = load_served_model(sklearn_model_dir)
    assert model.backend == "sklearn" and "no model.onnx" in model.backend_reason


def test_a_corrupt_export_falls_back_to_sklearn(tmp_path: Path, sklearn_model_dir: Path) -> None:
    import shutil

    folder = tmp_path / "model"
    shutil.copytree(sklearn_model_dir, folder)
    (folder / "model.onnx").write_bytes(b"not an onnx model")
    model = load_served_model(folder)
    assert model.backend == "sklearn" and "failed to load" in model.backend_reason
    answered = model.predict(model.validator.validate([VALID]))
    (score,), (label,) = answered.scores.tolist(), answered.labels
    assert 0.0 <= score <= 1.0 and answered.bodies == [{"label": label, "probability": score}]


_any_value = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.integers(-5, 200),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-10, 600),
    st.text(max_size=12),
    st.sampled_from(["month-to-month", "one-year", "dsl", "fiber", "yes", "no", "none", "C00000001", "C1"]),
    st.sampled_from(["C00000001\n", "C0000000\u0661", "C" + "\u0661" * 8, "one-year\n", "C00000001\ud800"]),
    st.lists(st.integers(), max_size=2),
)
_records = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            key: st.one_of(st.just(value), _any_value) for key, value in {**VALID, "customer_id": "C00000007"}.items()
        },
    ).map(lambda r: {**VALID, **r}),
    min_size=1,
    max_size=4,
)


@settings(max_examples=examples(300), deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(records=_records, padding=st.sampled_from([0, ROW_PATH_MAX_RECORDS]))
def test_fast_path_never_accepts_what_pandera_rejects(model_dir: Path, records: list[dict], padding: int) -> None:
    """Row by row (a few records) and column by column (padded with valid records beyond the row path's size)."""
    validator = load_served_model_cached(model_dir).validator
    assert validator.fast_path
    records = [dict(VALID) for _ in range(padding)] + records
    try:
        batch = validator.validate(records)
    except RequestInvalid:
        return
    if not batch.fast_path:
        return
    table = validator.schema.validate(validator.frame(batch.records), lazy=True)  # raises if pandera disagrees
    for name, values in batch.columns.items():
        assert_same(list(values), table[name].tolist())


@settings(max_examples=examples(300), deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(records=_records)
def test_both_fast_paths_accept_the_same_records_alike(model_dir: Path, records: list[dict]) -> None:
    validator = load_served_model_cached(model_dir).validator
    rows = accept_rows(validator._acceptors, validator.rules, validator._required, records)
    columns = accept_columns(validator.rules, records)
    if columns is not None:  # the column path takes only what needs no change (the row path normalises)
        assert rows is not None and rows.records == columns.records
        for name, values in columns.columns.items():
            assert_same(list(values), rows.columns[name])


@settings(max_examples=examples(300), deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(records=_records, padding=st.sampled_from([0, ROW_PATH_MAX_RECORDS]))
def test_the_columnar_path_never_accepts_what_pandera_rejects(
    model_dir: Path, records: list[dict], padding: int
) -> None:
    """The records sent as ``{"columns": {...}}`` (with the fields every one of them has)."""
    validator = load_served_model_cached(model_dir).validator
    records = [dict(VALID) for _ in range(padding)] + records
    shared = [name for name in records[-1] if all(name in record for record in records)]
    records = [{name: record[name] for name in shared} for record in records]
    try:
        batch = validator.validate_columns({name: [record[name] for record in records] for name in shared})
    except RequestInvalid:
        return
    if not batch.fast_path:
        return
    table = validator.schema.validate(validator.frame(list(batch.records)), lazy=True)  # raises if pandera disagrees
    for name, values in batch.columns.items():
        assert_same(list(values), table[name].tolist())
    assert list(batch.records) == records


def assert_same(fast: list, pandera: list) -> None:
    for a, b in zip(fast, pandera, strict=True):
        if a is None or (isinstance(a, float) and math.isnan(a)):
            assert b is None or (isinstance(b, float) and math.isnan(b)) or b is pd.NA
        else:
            assert a == b and type(a) is not bool


_cache: dict[Path, object] = {}


def load_served_model_cached(model_dir: Path):
    if model_dir not in _cache:
        _cache[model_dir] = load_served_model(model_dir)
    return _cache[model_dir]


def test_large_batches_are_checked_column_by_column_and_refused_by_the_full_validation(
    model_dir: Path, test_split: pd.DataFrame
) -> None:
    validator = load_served_model_cached(model_dir).validator
    records = json.loads(test_split.drop(columns=["churned"]).to_json(orient="records"))
    batch = validator.validate(records)
    assert isinstance(batch, ValidatedBatch) and batch.fast_path and batch.size == len(records)
    assert batch.columns["tenure_months"].dtype == np.int64 and batch.columns["total_charges"].dtype == np.float64
    assert np.isnan(batch.columns["total_charges"]).sum() == sum(r["total_charges"] is None for r in records)
    records[7]["age"], records[300]["contract"] = 500, "weekly"
    assert _reasons(validator, records) == {
        (7, "age", "fails check in_range(16, 120)"),
        (300, "contract", "fails check isin(['month-to-month', 'one-year', 'two-year'])"),
    }
    records[42]["unknown"], records[43]["age"] = 1, 33.5
    assert _reasons(validator, records) == {
        (42, "unknown", "unknown field (not in the model's input schema)"),
        (43, "age", "must be an integer within the 64-bit range"),
    }


def _reasons(validator, records: list[dict]) -> set[tuple]:
    try:
        validator.validate(records)
    except RequestInvalid as invalid:
        return {(e.record, e.field, e.reason) for e in invalid.errors}
    raise AssertionError("accepted")
