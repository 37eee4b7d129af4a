import dataclasses
import json
import tracemalloc

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.budgets import examples
from support.demo import DEMO_SCHEMA, demo_project
from typer.testing import CliRunner

from slipway.cli.app import app
from slipway.data.generator import EXAMPLE_RECORD, ChurnSettings, generate_churn
from slipway.data.schema import load_schema, model_input_schema
from slipway.data.tables import split
from slipway.data.validation import (
    LOSSY,
    Failure,
    PipelineNeeds,
    _plain,
    changed_values,
    pipeline_failures,
    render_markdown,
    render_text,
    split_sizes,
    validate_file,
    validate_frame,
)
from slipway.serving.validation import RecordValidator, RequestInvalid


@pytest.fixture(scope="module")
def schema(config):
    return load_schema(config.data.schema_path)


def test_valid_frame_passes(schema, churn_frame):
    result = validate_frame(churn_frame, schema)
    assert result.ok and result.rows == len(churn_frame)
    assert "passed" in render_markdown(result)


def test_failures_name_column_check_and_example_rows(schema, churn_frame):
    frame = churn_frame.copy()
    frame.loc[[3, 9], "age"] = 400
    frame.loc[5, "contract"] = "lifetime"
    result = validate_frame(frame, schema)
    by_column = {f.column: f for f in result.failures}
    assert by_column["age"].failures == 2
    assert [e["row"] for e in by_column["age"].examples] == [3, 9]
    assert "in_range" in by_column["age"].check
    assert by_column["contract"].examples[0] == {"row": 5, "value": "lifetime"}
    markdown = render_markdown(result)
    assert "FAILED" in markdown and "`age`" in markdown and "'lifetime'" in markdown
    assert "column 'contract'" in render_text(result)


def test_missing_and_extra_columns_are_named(schema, churn_frame):
    frame = churn_frame.drop(columns=["age"]).assign(favourite_colour="blue")
    result = validate_frame(frame, schema)
    checks = {f.column: f.check for f in result.failures}
    assert checks["age"] == "column missing from data"
    assert checks["favourite_colour"] == "column not in schema (extra column)"


def test_empty_table_and_unreadable_file_are_failures_not_crashes(schema, churn_frame, tmp_path):
    assert not validate_frame(churn_frame.head(0), schema).ok
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    result = validate_file(empty, schema)
    assert not result.ok and "empty" in result.failures[0].check
    assert json.loads(result.to_json())["ok"] is False


# --- lossless coercion: what was validated is what trains ---------------------------------------------------------


def _with(frame: pd.DataFrame, column: str, rows: list[int], value: object, dtype: object = object) -> pd.DataFrame:
    """``frame`` with ``column`` as ``dtype`` (as a file would be read) and ``value`` in ``rows``."""
    frame = frame.copy()
    frame[column] = frame[column].astype(dtype)
    frame.loc[rows, column] = value
    return frame


LOSSY_CASES = {
    "12.5 in an integer column": (lambda f: _with(f, "tenure_months", [3, 9], 12.5, float), "tenure_months", [3, 9]),
    "overflowing integer": (lambda f: _with(f, "support_calls", [4], 1e20, float), "support_calls", [4]),
    "0.5 in an integer target": (lambda f: _with(f, "churned", [5], 0.5, float), "churned", [5]),
    "boolean target": (lambda f: f.assign(churned=f["churned"].astype(bool)), "churned", [0, 1, 2, 3, 4]),
    "boolean in a float column": (lambda f: _with(f, "monthly_charges", [2], True), "monthly_charges", [2]),
}


@pytest.mark.parametrize("case", list(LOSSY_CASES))
def test_a_coercion_that_changes_values_fails_naming_column_and_rows(schema, config, churn_frame, case):
    corrupt, column, rows = LOSSY_CASES[case]
    frame = corrupt(churn_frame)
    result = validate_frame(frame, schema, needs=PipelineNeeds.from_config(config))
    assert not result.ok and result.table is None
    (lossy,) = [f for f in result.failures if LOSSY in f.check]
    assert lossy.column == column
    assert [e["row"] for e in lossy.examples] == rows
    assert [e["value"] for e in lossy.examples] == [_plain(frame.loc[r, column]) for r in rows]
    assert f"column {column!r}: {LOSSY}" in render_text(result)
    assert LOSSY in render_markdown(result)


def test_lossless_coercions_pass_and_the_table_comes_back_typed(schema, config, churn_frame):
    frame = churn_frame.astype({"churned": float, "tenure_months": float}).astype({"age": str})
    assert frame["churned"].isin([0.0, 1.0]).all() and frame["age"].map(type).eq(str).all()
    result = validate_frame(frame, schema, needs=PipelineNeeds.from_config(config))
    assert result.ok, render_text(result)
    table = result.table
    assert table is not None
    for name in ("churned", "tenure_months", "age"):
        assert table[name].dtype == "int64"
        assert table[name].tolist() == churn_frame[name].tolist()
    assert "table" not in json.loads(result.to_json())


def test_changed_values_finds_emptied_filled_and_altered_values():
    assert changed_values(pd.Series(["abc", "1"], dtype=object), pd.Series([np.nan, 1.0])).tolist() == [True, False]
    assert changed_values(pd.Series([None, "a"], dtype=object), pd.Series(["None", "a"])).tolist() == [True, False]
    assert changed_values(pd.Series([1.5, 0.0, 1.0]), pd.Series([True, False, True])).tolist() == [True, True, True]
    assert changed_values(pd.Series(["no", "True"]), pd.Series([True, True])).tolist() == [True, False]
    big = 2**60 + 1
    assert changed_values(pd.Series([big, 3]), pd.Series([float(big), 3.0])).tolist() == [True, False]
    assert changed_values(pd.Series([0.1, 2.5]), pd.Series([0.1, 2.5], dtype="float32")).tolist() == [False, False]


def test_serving_refuses_the_values_validation_refuses(schema, config, churn_frame):
    """One rule for the training table and a prediction request: a value that would change when read in the
    column's type is refused by both; a lossless one (3.0 for an integer) is accepted by both."""
    inputs = model_input_schema(schema, config.data.target, config.features.all, config.data.id_column)
    validator = RecordValidator(inputs)
    cases = {("tenure_months", 12.5, float), ("support_calls", 1e20, float), ("age", True, object)}
    cases |= {("monthly_charges", True, object)}
    for column, value, dtype in cases:
        table = validate_frame(_with(churn_frame, column, [7], value, dtype), schema)
        assert any(f.column == column and LOSSY in f.check for f in table.failures), (column, value)
        with pytest.raises(RequestInvalid) as refused:
            validator.validate([{**EXAMPLE_RECORD, column: value}])
        assert [e.field for e in refused.value.errors] == [column], (column, value)
    assert validate_frame(_with(churn_frame, "tenure_months", [7], 3.0, float), schema).ok
    assert validator.validate([{**EXAMPLE_RECORD, "tenure_months": 3.0}]).size == 1


# --- what the later stages need -------------------------------------------------------------------------------------


def _needs(config, **changes) -> PipelineNeeds:
    return dataclasses.replace(PipelineNeeds.from_config(config), **changes)


def _checks(result) -> dict[str, str]:
    return {f.column: f.check for f in result.failures}


def test_too_few_rows_to_split_is_a_failure(schema, config, churn_frame):
    result = validate_frame(churn_frame.head(3), schema, needs=PipelineNeeds.from_config(config))
    assert "too few rows to split: 3 rows give 2 train / 1 test" in _checks(result)["(table)"]
    assert "split.test_size 0.2" in render_markdown(result)


def test_a_class_too_rare_to_stratify_is_a_failure(schema, config, churn_frame):
    frame = churn_frame.head(100).assign(churned=0)
    frame.loc[[1, 2, 3, 4, 5, 6], "churned"] = 1  # mean 0.06 passes the schema; 6 rows of class 1 are too few
    result = validate_frame(frame, schema, needs=_needs(config, test_size=0.1))
    check = _checks(result)["churned"]
    assert "too few rows of a class to stratify" in check and "at least 10" in check and "1: 6 rows" in check
    assert "in both splits" in check
    assert validate_frame(frame, schema, needs=_needs(config, test_size=0.2)).ok  # 5 per class are enough
    multiclass = _checks(validate_frame(frame, schema, needs=_needs(config, test_size=0.9, task="multiclass")))
    assert "at least 10 rows of every class for it to be in the training split" in multiclass["churned"]


def test_a_single_class_and_a_binary_target_with_three_classes_are_failures(schema, config, churn_frame):
    single = validate_frame(churn_frame.assign(churned=0), schema, needs=PipelineNeeds.from_config(config))
    assert "needs at least 2 classes; found 1" in _checks(single)["churned"]
    loose = schema.update_column("churned", checks=[])
    three = churn_frame.assign(churned=np.select([churn_frame.index % 20 == 1, churn_frame.index % 20 == 2], [1, 2], 0))
    result = validate_frame(three, loose, needs=PipelineNeeds.from_config(config))
    assert "a binary target (data.task) has 2 classes; found 3" in _checks(result)["churned"]
    assert validate_frame(three, loose, needs=_needs(config, task="multiclass")).ok


def test_a_feature_empty_in_every_row_is_a_failure(schema, config, churn_frame):
    result = validate_frame(churn_frame.assign(total_charges=np.nan), schema, needs=PipelineNeeds.from_config(config))
    assert result.failures == [
        Failure("total_charges", "feature is empty in every row (nothing to learn from)", len(churn_frame))
    ]
    assert validate_frame(churn_frame.assign(total_charges=np.nan), schema).ok  # the schema alone allows it


def test_a_feature_whose_values_all_fall_in_the_test_split_is_a_failure(schema, config, churn_frame):
    needs = PipelineNeeds.from_config(config)
    frame = churn_frame.head(50).assign(total_charges=np.nan)
    _, test = split(frame.reset_index(names="row"), needs.target, needs.test_size, needs.seed)
    frame.loc[test["row"].head(2), "total_charges"] = 10.0
    check = _checks(validate_frame(frame, schema, needs=needs))["total_charges"]
    assert "empty in every row of the training split (2 values, all in the test split" in check


def test_an_empty_target_and_infinite_values_are_failures_even_where_the_schema_allows_them(
    schema, config, churn_frame
):
    loose = schema.update_columns({"churned": {"nullable": True, "dtype": float}, "monthly_charges": {"checks": []}})
    frame = _with(_with(churn_frame, "churned", [3], np.nan), "monthly_charges", [8], np.inf).astype(
        {"churned": float, "monthly_charges": float}
    )
    result = validate_frame(frame, loose, needs=PipelineNeeds.from_config(config))
    failures = {f.column: f for f in result.failures}
    assert failures["churned"].check == "target is empty (every row needs one)"
    assert failures["churned"].examples == [{"row": 3, "value": None}]
    assert failures["monthly_charges"].check == "infinite values (the model cannot use them)"
    assert failures["monthly_charges"].examples == [{"row": 8, "value": np.inf}]


def test_a_column_the_schema_fails_gets_no_second_failure(schema, config, churn_frame):
    frame = _with(churn_frame, "churned", [3], np.nan)
    result = validate_frame(frame, schema, needs=PipelineNeeds.from_config(config))
    assert {f.column for f in result.failures} == {"churned"}
    assert not any("empty" in f.check for f in result.failures)


@settings(max_examples=examples(150), deadline=None, database=None)
@given(
    counts=st.lists(st.integers(1, 40), min_size=2, max_size=5),
    binary=st.booleans(),
    test_size=st.floats(0.05, 0.95),
    seed=st.integers(0, 2**16),
)
def test_a_target_that_passes_the_class_checks_splits_as_the_later_stages_need(counts, binary, test_size, seed):
    """The split arithmetic is scikit-learn's, and the per-class minimum is enough for any seed: a binary class
    lands in both splits, a multiclass one in the training split."""
    counts = counts[:2] if binary else counts
    target = pd.Series(np.repeat(np.arange(len(counts)), counts))
    frame = pd.DataFrame({"y": target, "x": np.arange(len(target))})
    needs = PipelineNeeds("y", ("x",), "binary" if binary else "multiclass", test_size, seed)
    failures = pipeline_failures(frame, needs)
    train_rows, test_rows = split_sizes(len(frame), test_size)
    if any(f.column == "(table)" for f in failures):
        assert min(train_rows, test_rows) < 2
        return
    train, test = split(frame, "y", test_size, seed, stratify=False)
    assert (len(train), len(test)) == (train_rows, test_rows)
    if not failures:
        train, test = split(frame, "y", test_size, seed)
        assert set(train["y"]) == set(target)
        assert set(test["y"]) == set(target) if binary else set(test["y"]) <= set(target)


def test_slipway_validate_runs_the_same_checks(monkeypatch, tmp_path, churn_frame):
    monkeypatch.chdir(demo_project(tmp_path / "project"))
    table = tmp_path / "table.csv"
    _with(churn_frame, "tenure_months", [1], 12.5, float).head(3).to_csv(table, index=False)
    result = CliRunner().invoke(app, ["validate", str(table)])
    assert result.exit_code == 1
    assert f"column 'tenure_months': {LOSSY}" in result.output and "too few rows to split" in result.output


def test_validation_checks_the_table_without_copying_it(config):
    """The typed table shares the columns that needed no coercion with the table read, and pandera checks it in place:
    a copy of the numeric columns would show here (the text columns live in Arrow's memory, not Python's)."""
    schema = load_schema(DEMO_SCHEMA)
    frame = generate_churn(ChurnSettings(rows=50_000, seed=1))
    numeric = frame.select_dtypes("number").memory_usage(index=False).sum()
    tracemalloc.start()
    try:
        result = validate_frame(frame, schema, needs=PipelineNeeds.from_config(config))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.ok and peak < numeric
