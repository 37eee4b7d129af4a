import pandas as pd
import pytest
from support import REPO_ROOT

from slipway.schemas import load_schema, model_input_schema, save_schema


@pytest.fixture(scope="module")
def raw_schema(config):
    return load_schema(REPO_ROOT / config.data.schema_path)


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
