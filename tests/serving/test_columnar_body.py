"""``POST /predict`` with a columnar body, ``{"columns": {"field": [...], ...}}``: the same answers, log lines and
refusals as the same records sent as ``{"records": [...]}``, through FastAPI's TestClient and the real model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from support.demo import VALID

from slipway.monitoring.log_reader import read_prediction_log
from slipway.serving import create_app
from slipway.serving.endpoint import MAX_RECORDS
from slipway.serving.validation import ROW_PATH_MAX_RECORDS


@pytest.fixture(scope="module")
def client(model_dir: Path):
    with TestClient(create_app(model_dir)) as test_client:
        yield test_client


def _columns(records: list[dict]) -> dict[str, list]:
    return {name: [record[name] for record in records] for name in records[0]}


def _records(test_split, rows: int) -> list[dict]:
    table = test_split.drop(columns=["churned"]).head(rows)
    return json.loads(table.to_json(orient="records"))  # NaN -> null, as a client would send


def _errors(response) -> list[dict]:
    assert response.status_code == 422, response.text
    return response.json()["errors"]


@pytest.mark.parametrize("rows", [1, 3, ROW_PATH_MAX_RECORDS + 50])
def test_a_columnar_body_is_answered_as_its_records(client: TestClient, test_split, rows: int) -> None:
    records = _records(test_split, rows)
    assert rows < ROW_PATH_MAX_RECORDS or any(r["total_charges"] is None for r in records)  # nulls where allowed
    as_records = client.post("/predict", json={"records": records})
    as_columns = client.post("/predict", json={"columns": _columns(records)})
    assert as_records.status_code == as_columns.status_code == 200, as_columns.text
    assert as_columns.json()["predictions"] == as_records.json()["predictions"]
    assert len(as_columns.json()["predictions"]) == rows


def test_a_columnar_batch_is_logged_line_for_line_as_its_records(model_dir: Path, test_split, tmp_path: Path) -> None:
    records = _records(test_split, ROW_PATH_MAX_RECORDS + 5)
    with TestClient(create_app(model_dir, prediction_log=tmp_path / "log")) as test_client:
        first = test_client.post("/predict", json={"records": records}).json()
        second = test_client.post("/predict", json={"columns": _columns(records)}).json()
    table = read_prediction_log(tmp_path / "log")
    by_request = {rid: part.drop(columns=["request_id", "timestamp"]) for rid, part in table.groupby("request_id")}
    logged_records, logged_columns = by_request[first["request_id"]], by_request[second["request_id"]]
    assert len(logged_columns) == len(records)
    assert logged_columns.reset_index(drop=True).equals(logged_records.reset_index(drop=True))


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"columns": {**_columns([VALID]), "age": [30, 31]}}, "columns", "as many values (here 1, 1, 1"),
        ({"columns": {**_columns([VALID]), "age": 30}}, "age", "must be a list of values"),
        ({"columns": {}}, "columns", "must map each field to its list of values"),
        ({"columns": [VALID]}, "columns", "must map each field to its list of values"),
        ({"columns": {name: [] for name in VALID}}, "columns", "at least one value"),
        ({"columns": _columns([VALID]), "records": [VALID]}, "records", "unknown field next to 'columns'"),
        ({"columns": {"age": [30] * (MAX_RECORDS + 1)}}, "columns", "at most"),
    ],
)
def test_a_badly_shaped_columnar_body_gets_422_naming_the_problem(client: TestClient, body, field, reason) -> None:
    errors = _errors(client.post("/predict", json=body))
    assert errors[0]["field"] == field and reason in errors[0]["reason"], errors


@pytest.mark.parametrize("rows", [3, ROW_PATH_MAX_RECORDS + 50])
def test_a_bad_value_in_a_column_is_refused_naming_field_and_record(client: TestClient, test_split, rows) -> None:
    records = _records(test_split, rows)
    columns = _columns(records)
    columns["age"][2] = 3  # below the schema's range
    columns["contract"][rows - 1] = "forever"  # not an allowed value
    errors = _errors(client.post("/predict", json={"columns": columns}))
    assert {(e["field"], e["record"], e["value"]) for e in errors} == {("age", 2, 3), ("contract", rows - 1, "forever")}


def test_an_unknown_or_missing_column_is_refused_by_name(client: TestClient) -> None:
    columns = _columns([VALID, VALID])
    errors = _errors(client.post("/predict", json={"columns": {**columns, "colour": ["red", "blue"]}}))
    assert {e["field"] for e in errors} == {"colour"}
    del columns["age"]
    errors = _errors(client.post("/predict", json={"columns": columns}))
    assert {e["field"] for e in errors} == {"age"} and all("missing" in e["reason"] for e in errors)


def test_openapi_documents_the_columnar_body(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    body = document["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    record, columnar = body["oneOf"][1], body["oneOf"][2]
    columns = columnar["properties"]["columns"]
    assert columnar["required"] == ["columns"] and columns["required"] == record["required"]
    assert columns["properties"]["contract"] == {
        "type": "array",
        "items": record["properties"]["contract"],
        "minItems": 1,
    }
    example = {name: [value] for name, value in record["example"].items()}
    assert client.post("/predict", json={"columns": example}).status_code == 200
