import pandas as pd
import pytest

from slipway.data.schema import load_schema, model_input_schema, save_schema


@pytest.fixture(scope="module")
def raw_schema(config):
    return load_schema(config.data.schema_path)


def test_demo_data_passes_the_raw_schema(raw_schema, churn_frame):
    raw_schema.validate(churn_frame)


def test_schema_round_trips_through_yaml(raw_schema, tmp_path):
    save_schema(raw_schema, tmp_path / "schema.yaml")
    again = load_schema(tmp_path / "schema.yaml")
    assert list(again.columns) == list(raw_schema.columns)
    assert len(again.checks) == len(raw_schema.checks)


def test_model_input_schema_has_features_and_optional_id_but_no_target(raw_schema, config):
    schema = model_input_schema(raw_schema, config.data.target, config.features.all, config.data.id_column)
    assert "churned" not in schema.columns
    assert set(config.features.all) <= set(schema.columns)
    assert schema.columns["customer_id"].required is False
    assert not [c for c in schema.checks if (c.statistics or {}).get("column") == "churned"]


def test_model_input_schema_rejects_a_bad_request(raw_schema, config, churn_frame):
    import pandera.errors

    schema = model_input_schema(raw_schema, config.data.target, config.features.all, config.data.id_column)
    request = churn_frame[config.features.all].head(3).copy()
    schema.validate(request)  # valid without the id
    request.loc[1, "contract"] = "lifetime"
    with pytest.raises(pandera.errors.SchemaError, match="contract"):
        schema.validate(request)


def test_dataset_checks_catch_a_constant_target(raw_schema, churn_frame):
    import pandera.errors

    constant = churn_frame.assign(churned=0)
    with pytest.raises(pandera.errors.SchemaErrors, match="column_has_classes"):
        raw_schema.validate(constant, lazy=True)


def test_nullable_column_accepts_missing_values(raw_schema, churn_frame):
    frame = churn_frame.copy()
    frame.loc[0, "total_charges"] = float("nan")
    raw_schema.validate(frame)
    assert pd.isna(frame.loc[0, "total_charges"])


ARABIC_INDIC_ID = "C" + "".join(chr(0x0660 + int(digit)) for digit in "12345678")


@pytest.mark.parametrize("bad_id", ["C12345678\n", ARABIC_INDIC_ID, "C1234567\u0968", "C12345678x", " C12345678"])
def test_identifier_patterns_take_ascii_digits_and_the_whole_value(raw_schema, churn_frame, bad_id):
    """``^C\\d{8}$`` in schema.yaml: Python's ``\\d`` takes any Unicode digit and ``$`` matches before a final
    newline; the validate stage must still refuse these ids, and name them."""
    from slipway.data.validation import validate_frame

    frame = churn_frame.head(50).copy()
    frame.loc[7, "customer_id"] = bad_id
    result = validate_frame(frame, raw_schema)
    assert [(f.column, f.check, f.examples) for f in result.failures] == [
        ("customer_id", "str_matches('^C\\d{8}$')", [{"row": 7, "value": bad_id}])
    ]


def test_patterns_keep_their_text_through_a_yaml_round_trip(raw_schema, churn_frame, tmp_path):
    save_schema(raw_schema, tmp_path / "schema.yaml")
    assert "str_matches: ^C\\d{8}$" in (tmp_path / "schema.yaml").read_text()
    again = load_schema(tmp_path / "schema.yaml")
    (check,) = again.columns["customer_id"].checks
    assert check.name == "str_matches" and check.statistics == {"pattern": "^C\\d{8}$"}
    assert not validate_ids(again, churn_frame, "C12345678\n").ok
    assert validate_ids(again, churn_frame, "C12345678").ok


def validate_ids(schema, frame, customer_id):
    from slipway.data.validation import validate_frame

    frame = frame.head(20).copy()
    frame.loc[3, "customer_id"] = customer_id
    return validate_frame(frame, schema)
