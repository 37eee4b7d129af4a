"""The two backends agree, and the validator's fast path never accepts what pandera rejects."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.demo import VALID

from slipway.serving.model import load_served_model
from slipway.serving.validation import RequestInvalid, ValidatedBatch


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
    labels = [a.label for a in onnx.predict(batch)]
    assert labels == [int(p >= onnx.threshold) for p in got[:, 1]]
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
    (answer,) = model.predict(model.validator.validate([VALID]))
    assert 0.0 <= answer.score <= 1.0 and answer.body == {"label": answer.label, "probability": answer.score}


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


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(records=_records)
def test_fast_path_never_accepts_what_pandera_rejects(model_dir: Path, records: list[dict]) -> None:
    validator = load_served_model_cached(model_dir).validator
    assert validator.fast_path
    try:
        batch = validator.validate(records)
    except RequestInvalid:
        return
    if not batch.fast_path:
        return
    table = validator.schema.validate(validator.frame(batch.records), lazy=True)  # raises if pandera disagrees
    for name, values in batch.columns.items():
        assert_same(values, table[name].tolist())


def assert_same(fast: list, pandera: list) -> None:
    for a, b in zip(fast, pandera, strict=True):
        if a is None:
            assert b is None or (isinstance(b, float) and math.isnan(b)) or b is pd.NA
        else:
            assert a == b


_cache: dict[Path, object] = {}


def load_served_model_cached(model_dir: Path):
    if model_dir not in _cache:
        _cache[model_dir] = load_served_model(model_dir)
    return _cache[model_dir]


def test_large_batches_go_through_pandera(model_dir: Path, test_split: pd.DataFrame) -> None:
    validator = load_served_model_cached(model_dir).validator
    records = json.loads(test_split.drop(columns=["churned"]).head(100).to_json(orient="records"))
    batch = validator.validate(records)
    assert isinstance(batch, ValidatedBatch) and not batch.fast_path and batch.size == 100
