"""The API serves multiclass and regression models too: the answer, /version, the log and /metrics fit the task."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from support.demo import VALID

from slipway.artifact.persistence import load_model
from slipway.monitoring.log_reader import read_prediction_log
from slipway.serving import create_app
from slipway.serving.smoke import check_prediction


def _records(test_split: pd.DataFrame, features: list[str], rows: int = 40) -> list[dict]:
    return json.loads(test_split[features].head(rows).to_json(orient="records"))


def _features(model_dir: Path) -> list[str]:
    features = json.loads((model_dir / "metadata.json").read_text())["params"]["features"]
    return [*features["numeric"], *features["categorical"]]


@pytest.mark.parametrize("backend", ["onnx", "sklearn"])
def test_multiclass_answers_carry_every_class_probability(multiclass_model_dir, test_split, backend, tmp_path):
    features = _features(multiclass_model_dir)
    records = _records(test_split, features)
    app = create_app(multiclass_model_dir, backend=backend, prediction_log=tmp_path)
    with TestClient(app) as client:
        version = client.get("/version").json()
        assert (version["task"], version["classes"], version["threshold"]) == (
            "multiclass",
            ["loyal", "new", "settled"],
            None,
        )
        assert version["backend"] == backend
        answer = client.post("/predict", json={"records": records})
        metrics = client.get("/metrics").text
    assert answer.status_code == 200, answer.text
    predictions = answer.json()["predictions"]
    expected = load_model(multiclass_model_dir / "model.skops").predict_proba(test_split[features].head(40))
    got = np.array([[p["probabilities"][c] for c in ("loyal", "new", "settled")] for p in predictions])
    assert np.max(np.abs(got - expected)) <= 1e-6
    assert [p["label"] for p in predictions] == [["loyal", "new", "settled"][i] for i in expected.argmax(axis=1)]
    assert all(p["probability"] == max(p["probabilities"].values()) for p in predictions)
    assert {p["label"] for p in predictions} >= {"new", "loyal"}  # the rows are not all one class
    logged = read_prediction_log(tmp_path)
    assert logged["label"].tolist() == [p["label"] for p in predictions]
    assert logged["prediction"].tolist() == [p["probability"] for p in predictions]
    counted = sum(
        float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines() if line.startswith("slipway_predictions_total{")
    )
    assert counted == len(records) and 'slipway_predictions_total{label="new"}' in metrics
    assert check_prediction(predictions[0], "multiclass", version["classes"]).startswith("label")


@pytest.mark.parametrize("backend", ["onnx", "sklearn"])
def test_regression_answers_are_values(regression_model_dir, test_split, backend, tmp_path):
    features = _features(regression_model_dir)
    records = _records(test_split, features)
    app = create_app(regression_model_dir, backend=backend, prediction_log=tmp_path)
    with TestClient(app) as client:
        version = client.get("/version").json()
        assert (version["task"], version["classes"], version["threshold"]) == ("regression", [], None)
        answer = client.post("/predict", json={"records": records})
        one = client.post("/predict", json=records[0])
        metrics = client.get("/metrics").text
    assert answer.status_code == 200 and one.status_code == 200, answer.text + one.text
    predictions = answer.json()["predictions"]
    assert all(set(p) == {"value"} for p in predictions)
    expected = load_model(regression_model_dir / "model.skops").predict(test_split[features].head(40))
    got = np.array([p["value"] for p in predictions])
    assert np.max(np.abs(got - expected) / np.maximum(1, np.abs(expected))) <= 1e-5
    assert one.json()["predictions"][0]["value"] == pytest.approx(got[0], rel=1e-6)
    logged = read_prediction_log(tmp_path)
    assert logged["label"].isna().all() and logged["prediction"].tolist()[:40] == got.tolist()
    assert f"slipway_prediction_value_count {len(records) + 1}.0" in metrics
    assert "slipway_predictions_total{" not in metrics
    assert check_prediction(predictions[0], "regression", []).startswith("value")


def test_a_regression_request_is_validated_like_any_other(regression_model_dir) -> None:
    with TestClient(create_app(regression_model_dir)) as client:
        refused = client.post("/predict", json={**VALID, "monthly_charges": 70.5})  # the target is not an input
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["monthly_charges"]


@pytest.mark.parametrize(
    ("prediction", "task", "classes", "problem"),
    [
        ({"label": 2, "probability": 0.9}, "binary", [0, 1], "not one of the model's classes"),
        ({"label": 1, "probability": 1.2}, "binary", [0, 1], "not in [0, 1]"),
        ({"label": "a", "probability": 0.6, "probabilities": {"a": 0.6, "b": 0.6}}, "multiclass", ["a", "b"], "sum"),
        ({"label": "a", "probability": 0.6, "probabilities": {"a": 0.6}}, "multiclass", ["a", "b"], "cover"),
        ({"value": None}, "regression", [], "finite"),
        ({"label": 1, "probability": 0.7}, "regression", [], "finite"),
    ],
)
def test_the_smoke_check_refuses_an_answer_that_does_not_fit_the_task(prediction, task, classes, problem) -> None:
    with pytest.raises(ValueError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        check_prediction(prediction, task, classes)
