"""Contract tests of the serving API through FastAPI's TestClient (the real app, the real model folder)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from support.demo import RELEASE_COMMIT, VALID, demo_params_file

from slipway.artifact.folder import RELEASE_FILE
from slipway.artifact.persistence import load_model
from slipway.monitoring.log_reader import read_prediction_log
from slipway.serving import create_app


@pytest.fixture(scope="module")
def client(model_dir: Path):
    with TestClient(create_app(model_dir)) as test_client:
        yield test_client


def _errors(response) -> list[dict]:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["request_id"] and body["errors"], body
    return body["errors"]


def test_health_ready_version(client: TestClient, model_dir: Path) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200 and ready.json()["backend"] == "onnx"
    version = client.get("/version").json()
    metadata = json.loads((model_dir / "metadata.json").read_text())
    assert version["model_version"] == "v1.2.0"
    assert version["git_commit"] == RELEASE_COMMIT  # the registered version's commit, from the release
    assert version["data_hash"] == metadata["data"]["dataset_md5"]
    assert version["backend"] == "onnx"


def test_a_workspace_model_reports_no_version_and_no_commit(model_dir: Path, tmp_path: Path) -> None:
    """A model folder the pipeline wrote (no deploy, so no release file) claims no version and no commit."""
    workspace = tmp_path / "model"
    shutil.copytree(model_dir, workspace, ignore=shutil.ignore_patterns(RELEASE_FILE))
    with TestClient(create_app(workspace)) as workspace_client:
        version = workspace_client.get("/version").json()
    assert version["model_version"] == "unversioned" and version["git_commit"] is None


def test_single_and_batch_predictions_match_the_model(client: TestClient, model_dir: Path, test_split) -> None:
    one = client.post("/predict", json=VALID)
    assert one.status_code == 200, one.text
    body = one.json()
    assert re.fullmatch(r"[0-9a-f]{32}", body["request_id"]) and one.headers["x-request-id"] == body["request_id"]
    assert body["model_version"] == "v1.2.0" and len(body["predictions"]) == 1

    rows = test_split.drop(columns=["churned"]).head(50)
    records = json.loads(rows.to_json(orient="records"))  # NaN -> null, as a client would send
    many = client.post("/predict", json={"records": records})
    assert many.status_code == 200, many.text
    got = np.array([p["probability"] for p in many.json()["predictions"]])
    features = [c for c in rows.columns if c != "customer_id"]
    expected = load_model(model_dir / "model.skops").predict_proba(rows[features])[:, 1]
    assert np.max(np.abs(got - expected)) <= 1e-6
    assert [p["label"] for p in many.json()["predictions"]] == [int(p >= 0.5) for p in got]
    singles = [client.post("/predict", json=record).json()["predictions"][0] for record in records]
    alone = np.array([p["probability"] for p in singles])  # a batch (checked column by column) answers as each
    assert np.max(np.abs(alone - got)) <= 1e-6  # record alone, but for float32 rounding that varies with the batch


def test_an_integer_beyond_64_bits_is_refused_not_rounded(client: TestClient) -> None:
    """The body is read by orjson, which reads such integers as floats; -2**63 - 1 must not pass as -2**63."""
    for number in ("-9223372036854775809", "9223372036854775808", "99999999999999999999999"):
        raw = json.dumps({**VALID, "support_calls": 0}).replace('"support_calls": 0', f'"support_calls": {number}')
        errors = _errors(client.post("/predict", content=raw, headers={"content-type": "application/json"}))
        assert [(e["field"], e["reason"]) for e in errors] == [
            ("support_calls", "must be an integer within the 64-bit range")
        ]
        assert str(errors[0]["value"]) == number, errors  # echoed as sent (the standard parser read it)


def test_the_route_fastapi_documents_answers_like_the_app(client: TestClient, model_dir: Path) -> None:
    """``ServingAPI`` answers POST /predict ahead of routing; FastAPI's own route (reached through FastAPI's middleware
    and router) answers alike."""
    app = client.app
    assert isinstance(app, FastAPI)

    async def through_fastapi(scope, receive, send) -> None:
        await FastAPI.__call__(app, scope, receive, send)

    with TestClient(through_fastapi) as router:
        routed = router.post("/predict", json={"records": [VALID, VALID]})
    direct = client.post("/predict", json={"records": [VALID, VALID]})
    assert routed.status_code == direct.status_code == 200
    assert routed.json()["predictions"] == direct.json()["predictions"] and routed.headers["x-request-id"]


ARABIC_INDIC_ID = "C" + "".join(chr(0x0660 + int(digit)) for digit in "12345678")


def _without(record: dict, key: str) -> dict:
    return {k: v for k, v in record.items() if k != key}


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        (_without(VALID, "age"), "age", "missing required field"),
        ({**VALID, "tenure_months": "twelve"}, "tenure_months", "must be an integer"),
        ({**VALID, "tenure_months": 3.7}, "tenure_months", "must be an integer"),
        ({**VALID, "monthly_charges": True}, "monthly_charges", "must be a number"),
        ({**VALID, "age": 7}, "age", "in_range(16, 120)"),
        ({**VALID, "monthly_charges": 9999.0}, "monthly_charges", "in_range"),
        ({**VALID, "contract": "weekly"}, "contract", "isin"),
        ({**VALID, "loyalty_tier": "gold"}, "loyalty_tier", "unknown field"),
        ({**VALID, "contract": None}, "contract", "must not be null"),
        ({**VALID, "customer_id": "X1"}, "customer_id", "str_matches"),
        ({**VALID, "customer_id": "C12345678\n"}, "customer_id", "str_matches"),
        ({**VALID, "customer_id": ARABIC_INDIC_ID}, "customer_id", "str_matches"),
        ({**VALID, "customer_id": "C1234567\u0968"}, "customer_id", "str_matches"),
        ({**VALID, "contract": ["one-year"]}, "contract", "must be a string"),
        ({"records": []}, "records", "at least one record"),
        ({"records": {"a": 1}}, "records", "must be a list"),
        ({"records": [VALID], "extra": 1}, "extra", "unknown field next to 'records'"),
        ({"records": [VALID, 5]}, "(record)", "JSON object"),
        ([VALID], "(body)", "record object"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_bad_requests_get_422_naming_field_and_reason(client: TestClient, body, field: str, reason: str) -> None:
    errors = _errors(client.post("/predict", json=body))
    assert any(e["field"] == field and reason in e["reason"] for e in errors), errors


def test_batch_errors_name_the_record(client: TestClient) -> None:
    records = [VALID, {**VALID, "age": 500}, VALID, {**VALID, "contract": "weekly"}]
    errors = _errors(client.post("/predict", json={"records": records}))
    assert {(e["record"], e["field"]) for e in errors} == {(1, "age"), (3, "contract")}


def test_ids_are_optional_per_record_and_may_repeat(client: TestClient) -> None:
    """The id only labels a record for the caller: a batch may score one customer twice, or carry no ids."""
    records = [{**VALID, "customer_id": "C00000001"}, {**VALID, "customer_id": "C00000001"}, VALID]
    response = client.post("/predict", json={"records": records})
    assert response.status_code == 200, response.text
    probabilities = [p["probability"] for p in response.json()["predictions"]]
    assert len(probabilities) == 3 and len(set(probabilities)) == 1


@pytest.mark.parametrize("raw", [b"{not json", b"", b"\xff\xfe", b"[" * 100_000, b"NaN", b"1" * 5000])
def test_malformed_bodies_get_422(client: TestClient, raw: bytes) -> None:
    errors = _errors(client.post("/predict", content=raw, headers={"content-type": "application/json"}))
    assert errors[0]["field"] == "(body)"


@pytest.mark.parametrize(
    ("raw", "field", "value"),
    [
        (b'{"\\ud800": 1}', "\\ud800", None),
        (b'{"records": [{"x\\ud800\\n": 1}]}', "x\\ud800\\n", None),
        (b'{"records": [], "\\udfff": 1}', "\\udfff", None),
        (b'{"contract": "\\ud800"}', "contract", "\\ud800"),
        (b'{"records": "\\udbff"}', "records", "\\udbff"),
    ],
)
def test_lone_surrogates_get_422_with_an_escaped_echo(client: TestClient, raw: bytes, field: str, value) -> None:
    errors = _errors(client.post("/predict", content=raw, headers={"content-type": "application/json"}))
    assert any(e["field"] == field and e["value"] == value for e in errors), errors


def test_echoed_names_and_values_are_cut_short_and_escaped(client: TestClient) -> None:
    (name,) = _errors(client.post("/predict", json={**VALID, "n\n" * 100_000: 1}))
    assert name["field"] == "n\\n" * 66 + "n... (200,000 characters)"  # never cut inside an escape
    (value,) = _errors(client.post("/predict", json={**VALID, "contract": "\x1b[2J" + "v" * 100_000}))
    assert value["value"] == "\\x1b[2J" + "v" * 193 + "... (100,004 characters)"


def test_non_finite_numbers_get_422(client: TestClient) -> None:
    raw = json.dumps({**VALID, "age": 0}).replace('"age": 0', '"age": 1e999999')
    errors = _errors(client.post("/predict", content=raw, headers={"content-type": "application/json"}))
    assert errors == [{"field": "age", "record": 0, "reason": "must be a finite number", "value": "inf"}]


def test_unexpected_failure_inside_validation_is_a_422_not_a_500(model_dir: Path, monkeypatch) -> None:
    app = create_app(model_dir)
    validator = app.state.model_state.model.validator

    def explode(records):
        raise RuntimeError("something nobody foresaw")

    monkeypatch.setattr(validator, "validate", explode)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        response = test_client.post("/predict", json=VALID)
    assert response.status_code == 422
    assert response.json()["errors"][0]["reason"] == "cannot be read: RuntimeError"


def test_a_folder_without_a_model_is_alive_but_not_ready(tmp_path: Path) -> None:
    with TestClient(create_app(tmp_path / "empty")) as test_client:
        assert test_client.get("/health").status_code == 200
        ready = test_client.get("/ready")
        assert ready.status_code == 503 and "model.skops not found" in ready.json()["detail"]
        assert test_client.post("/predict", json=VALID).status_code == 503


def test_metrics_count_requests_latency_and_predictions(model_dir: Path) -> None:
    with TestClient(create_app(model_dir)) as test_client:
        test_client.post("/predict", json={"records": [VALID, VALID, VALID]})
        test_client.post("/predict", json={**VALID, "age": 1})
        text = test_client.get("/metrics").text
    assert 'slipway_http_requests_total{endpoint="/predict",method="POST",status="200"} 1.0' in text
    assert 'slipway_http_requests_total{endpoint="/predict",method="POST",status="422"} 1.0' in text
    assert 'slipway_http_request_duration_seconds_count{endpoint="/predict"} 2.0' in text
    assert "slipway_prediction_probability_count 3.0" in text
    assert 'slipway_invalid_requests_total{field="age"} 1.0' in text
    assert re.search(r'^slipway_model_info\{backend="onnx",stage="[^"]*",version="v1\.2\.0"\} 1\.0$', text, re.M)


def test_every_prediction_is_logged_with_its_request_id(model_dir: Path, tmp_path: Path) -> None:
    with TestClient(create_app(model_dir, prediction_log=tmp_path / "log")) as test_client:
        first = test_client.post("/predict", json={"records": [VALID, {**VALID, "customer_id": "C00000042"}]}).json()
        test_client.post("/predict", json={**VALID, "age": 3})  # refused: not logged
        second = test_client.post("/predict", json=VALID).json()
    table = read_prediction_log(tmp_path / "log")
    assert list(table["request_id"]) == [first["request_id"]] * 2 + [second["request_id"]]
    assert list(table["record"]) == [0, 1, 0]
    assert table.loc[1, "customer_id"] == "C00000042" and (table["model_version"] == "v1.2.0").all()
    assert table.loc[0, "prediction"] == first["predictions"][0]["probability"]
    assert table.loc[0, "contract"] == VALID["contract"]


def test_openapi_documents_the_record_schema_and_a_valid_example(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    body = document["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    record = body["oneOf"][1]
    assert record["properties"]["contract"]["enum"] == ["month-to-month", "one-year", "two-year"]
    assert record["properties"]["total_charges"]["type"] == ["number", "null"]
    assert "customer_id" not in record["required"] and record["additionalProperties"] is False
    assert client.post("/predict", json=record["example"]).status_code == 200


WITHOUT_PYARROW = """
import json, sys
sys.modules["pyarrow"] = None  # `import pyarrow` fails, as in the serving image, which has no pyarrow
from fastapi.testclient import TestClient
from slipway.serving import create_app
model_dir, params, good, bad = sys.argv[1:]
with TestClient(create_app(model_dir, params_path=params)) as client:
    answers = [client.post("/predict", json={"records": [json.loads(r)]}) for r in (good, bad)]
print(json.dumps([[a.status_code, a.json()] for a in answers]))
"""


def test_the_model_folder_serves_where_pyarrow_is_not_installed(model_dir: Path, tmp_path: Path) -> None:
    """The train stage saves the input schema where pyarrow holds text columns (``string[pyarrow]``); the serving
    image has no pyarrow, and the same folder loads there, validates and answers."""
    assert "string[pyarrow]" in (model_dir / "input_schema.yaml").read_text()
    bad = {**VALID, "contract": "lifetime"}
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_PYARROW, str(model_dir), str(demo_params_file(tmp_path)),
         json.dumps(VALID), json.dumps(bad)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    (good_status, good_body), (bad_status, bad_body) = json.loads(result.stdout)
    assert good_status == 200 and 0 <= good_body["predictions"][0]["probability"] <= 1, good_body
    assert bad_status == 422 and "contract" in json.dumps(bad_body), bad_body
