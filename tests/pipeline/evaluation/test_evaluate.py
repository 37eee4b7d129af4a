"""The evaluate stage's computations, per task, all read from ``slipway.tasks``: metrics equal to scikit-learn's,
bootstrap intervals, plot files, and the per-row predictions they are computed from."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as sk
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris

from slipway.config import EvaluateConfig, FeaturesConfig, Task, TrainConfig
from slipway.metrics import bootstrap
from slipway.metrics.bootstrap import Bootstrap
from slipway.pipeline.evaluation import evaluate as module
from slipway.pipeline.evaluation.evaluate import evaluate, metric_intervals, metric_values
from slipway.pipeline.evaluation.predictions import metric_inputs
from slipway.pipeline.model import build_pipeline
from slipway.tasks import task_spec

SETTINGS = EvaluateConfig(importance_repeats=2, scatter_points=50)


def _iris() -> pd.DataFrame:
    frame = load_iris(as_frame=True).frame
    frame["species"] = np.array(["setosa", "versicolor", "virginica"])[frame.pop("target")]
    return frame


def _cancer() -> pd.DataFrame:
    frame = load_breast_cancer(as_frame=True).frame
    frame["diagnosis"] = np.where(frame.pop("target") == 1, "benign", "malignant")
    return frame


TABLES = {
    "binary": (_cancer, "diagnosis"),
    "multiclass": (_iris, "species"),
    "regression": (lambda: load_diabetes(as_frame=True).frame, "target"),
}


def _fit(frame: pd.DataFrame, target: str, task: Task, model: str = "logreg"):
    """Fitted on the first two thirds of the (shuffled) table; x and y of the last third."""
    frame = frame.sample(frac=1, random_state=0).reset_index(drop=True)
    features = FeaturesConfig(numeric=[c for c in frame.columns if c != target][:8])
    cut = len(frame) * 2 // 3
    train, test = frame.iloc[:cut], frame.iloc[cut:]
    pipeline = build_pipeline(features, TrainConfig(model=model, hgb={"max_iter": 30}), task)
    return pipeline.fit(train[features.all], train[target].to_numpy()), test[features.all], test[target].to_numpy()


def _scikit_learn(task: str, model, x: pd.DataFrame, y: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """The metrics as scikit-learn computes them from the model's own outputs."""
    if task == "regression":
        p = model.predict(x)
        return {"rmse": sk.root_mean_squared_error(y, p), "mae": sk.mean_absolute_error(y, p),
                "r2": sk.r2_score(y, p), "mape": sk.mean_absolute_percentage_error(y, p)}  # fmt: skip
    proba, classes = model.predict_proba(x), model.classes_
    if task == "multiclass":
        predicted = classes[proba.argmax(axis=1)]
        return {"accuracy": sk.accuracy_score(y, predicted),
                "f1_macro": sk.f1_score(y, predicted, average="macro", zero_division=0),
                "f1_weighted": sk.f1_score(y, predicted, average="weighted", zero_division=0),
                "log_loss": sk.log_loss(y, proba, labels=classes),
                "roc_auc_ovr": sk.roc_auc_score(y, proba, multi_class="ovr", labels=classes)}  # fmt: skip
    truth, score = (y == classes[1]).astype(int), proba[:, 1]
    predicted = (score >= threshold).astype(int)
    return {"roc_auc": sk.roc_auc_score(truth, score), "pr_auc": sk.average_precision_score(truth, score),
            "f1": sk.f1_score(truth, predicted), "precision": sk.precision_score(truth, predicted),
            "recall": sk.recall_score(truth, predicted), "accuracy": sk.accuracy_score(truth, predicted),
            "log_loss": sk.log_loss(truth, score), "brier": sk.brier_score_loss(truth, score)}  # fmt: skip


@pytest.mark.parametrize("model", ["logreg", "hgb"])
@pytest.mark.parametrize("task", list(TABLES))
def test_metrics_equal_scikit_learn_to_six_decimals_and_plots_are_the_tasks(task, model):
    build, target = TABLES[task]
    fitted, x, y = _fit(build(), target, task, model)
    result = evaluate(task, fitted, x, y, SETTINGS)
    expected = {name: round(float(value), 6) for name, value in _scikit_learn(task, fitted, x, y).items()}
    assert {name: result.metrics[name] for name in expected} == expected
    assert list(result.metrics) == task_spec(task).metric_names  # every metric of the table, in its order
    assert list(result.plots) == [plot.file for plot in task_spec(task).plots]
    assert list(result.intervals["metrics"]) == list(result.metrics)


def test_multiclass_importance_finds_the_petals():
    fitted, x, y = _fit(_iris(), "species", "multiclass")
    assert evaluate("multiclass", fitted, x, y, SETTINGS).plots["importance.json"][0]["feature"].startswith("petal")


def test_binary_log_loss_in_metrics_json_is_the_arithmetic_its_interval_uses():
    """A confident wrong answer is clipped at machine precision both in metrics.json and in every resample."""
    spec, y = task_spec("binary"), np.array([1, 0, 1, 0])
    score = np.array([0.0, 0.1, 0.9, 0.2])  # the first row: probability 0 for a positive
    reported = metric_values(spec, y, score, 0.5)["log_loss"]
    assert reported == round(sk.log_loss(y, score), 6)
    assert reported == round(float(spec.metric("log_loss").compute(y, score, np.ones(4))[0]), 6)


def test_metrics_left_out_where_undefined_as_in_metrics_json():
    multiclass = task_spec("multiclass")
    y = np.array([0, 1, 0, 1])  # class 2 is missing from the test rows: one-vs-rest ROC AUC is undefined
    proba = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.6, 0.3, 0.1], [0.2, 0.7, 0.1]])
    values = metric_values(multiclass, y, proba, 0.5)
    assert "roc_auc_ovr" not in values and values["accuracy"] == 1.0
    assert "roc_auc_ovr" in metric_values(multiclass, np.array([0, 1, 2, 1]), proba, 0.5)
    regression = task_spec("regression")
    assert "mape" in metric_values(regression, np.array([1.0, 5.0, 10.0]), np.array([1.0, 4.0, 11.0]), 0.5)
    for near_zero in ([0.0, 5.0, 10.0], [1e-6, 5.0, 10.0]):
        assert "mape" not in metric_values(regression, np.array(near_zero), np.array([0.1, 5.0, 10.0]), 0.5)


def test_text_labels_give_the_metrics_of_zero_one_labels(churn_frame, config):
    frame = churn_frame.head(600)
    x, y01 = frame[config.features.all], frame[config.data.target].to_numpy()
    numeric = evaluate("binary", build_pipeline(config.features, config.train, "binary").fit(x, y01), x, y01, SETTINGS)
    text = np.where(y01 == 1, "yes", "no")
    labelled = evaluate("binary", build_pipeline(config.features, config.train, "binary").fit(x, text), x, text,
                        SETTINGS)  # fmt: skip
    assert labelled.metrics == numeric.metrics and labelled.intervals == numeric.intervals
    assert labelled.plots["roc.json"] == numeric.plots["roc.json"]


# --- intervals.json ------------------------------------------------------------------------------------------------


def _binary_rows(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    return y, np.clip(0.35 * y + 0.65 * rng.random(n), 0, 1)


BOOTSTRAP = Bootstrap(resamples=300, level=0.9, seed=7)


def test_intervals_contain_the_value_and_say_how_they_were_made():
    y, score = _binary_rows(800)
    result = metric_intervals(task_spec("binary"), y, score, 0.5, BOOTSTRAP)
    assert {k: result[k] for k in ("level", "resamples", "seed", "rows")} == {
        "level": 0.9, "resamples": 300, "seed": 7, "rows": 800}  # fmt: skip
    assert list(result["metrics"]) == task_spec("binary").metric_names
    for name, bounds in result["metrics"].items():
        assert set(bounds) == {"value", "low", "high"}
        assert bounds["low"] <= bounds["value"] <= bounds["high"], name
        assert bounds["low"] < bounds["high"], name


def test_intervals_narrow_with_more_rows():
    spec = task_spec("binary")
    small, large = (metric_intervals(spec, *_binary_rows(n), 0.5, BOOTSTRAP)["metrics"] for n in (300, 4800))
    for name in spec.metric_names:
        width = {side: r[name]["high"] - r[name]["low"] for side, r in (("small", small), ("large", large))}
        assert width["large"] < 0.5 * width["small"], name  # 16 times the rows: about a quarter of the width


def test_intervals_are_deterministic_for_a_seed():
    spec, (y, score) = task_spec("binary"), _binary_rows(500)
    first, again = (metric_intervals(spec, y, score, 0.5, BOOTSTRAP) for _ in range(2))
    other = metric_intervals(spec, y, score, 0.5, Bootstrap(300, 0.9, seed=8))
    assert first == again and first["metrics"] != other["metrics"]


# --- the per-row predictions ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("task", list(TABLES))
def test_the_predictions_file_round_trips_to_the_same_metrics(tmp_path: Path, task):
    build, target = TABLES[task]
    fitted, x, y = _fit(build(), target, task)
    ids = np.array([f"row-{i}" for i in range(len(x))])
    result = evaluate(task, fitted, x, y, SETTINGS, ids=ids)
    result.predictions.to_parquet(tmp_path / "test.parquet", index=False)
    frame = pd.read_parquet(tmp_path / "test.parquet")
    assert frame["id"].tolist() == ids.tolist() and frame["label"].tolist() == y.tolist()
    y_back, output_back = metric_inputs(frame, task)
    assert metric_values(task_spec(task), y_back, output_back, SETTINGS.threshold) == result.metrics
    assert evaluate(task, fitted, x, y, SETTINGS).predictions["id"].tolist() == list(range(len(x)))  # no id column


def test_the_intervals_run_beside_the_importance_and_equal_them_computed_alone(monkeypatch) -> None:
    frame, target = TABLES["binary"]
    model, x, y = _fit(frame(), target, "binary")
    drawing_threads: set[int] = set()
    draw = bootstrap.resample_counts

    def recorded(*args, **kwargs):
        drawing_threads.add(threading.get_ident())
        return draw(*args, **kwargs)

    monkeypatch.setattr(bootstrap, "resample_counts", recorded)
    result = evaluate("binary", model, x, y, SETTINGS)
    assert drawing_threads and threading.get_ident() not in drawing_threads  # not on the caller's thread
    scored_y, output = metric_inputs(result.predictions, "binary")
    spec = task_spec("binary")
    alone = metric_intervals(spec, scored_y, output, SETTINGS.threshold, module._bootstrap(SETTINGS))
    assert result.intervals == alone
    assert result.plots == module._plot_data(spec, model, x, y, scored_y, output, SETTINGS)
