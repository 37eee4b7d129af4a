import json

import pytest
from support import REPO_ROOT

from slipway.schemas import load_schema
from slipway.validation import render_markdown, render_text, validate_file, validate_frame


@pytest.fixture(scope="module")
def schema(config):
    return load_schema(REPO_ROOT / config.data.schema_path)


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
