"""Answers by task: pure mapping from model outputs to what the API returns, logs and counts."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from slipway.serving.predictions import answers, plain_classes, task_of


def test_binary_answers_use_the_threshold_and_the_model_s_own_class_labels() -> None:
    outputs = np.array([[0.8, 0.2], [0.35, 0.65], [0.1, 0.9]])
    found = answers("binary", outputs, ["benign", "malignant"], threshold=0.7)
    assert found.bodies == [
        {"label": "benign", "probability": 0.2},
        {"label": "benign", "probability": 0.65},
        {"label": "malignant", "probability": 0.9},
    ]
    assert found.scores.tolist() == [0.2, 0.65, 0.9] and found.labels == ["benign", "benign", "malignant"]
    assert found.label_counts() == {"benign": 2, "malignant": 1}


def test_multiclass_answers_name_the_most_probable_class_and_every_probability() -> None:
    outputs = np.array([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3]])
    found = answers("multiclass", outputs, [3, 5, 7], threshold=0.5)
    assert found.bodies[0] == {"label": 5, "probability": 0.7, "probabilities": {"3": 0.1, "5": 0.7, "7": 0.2}}
    assert (found.labels[1], found.scores[1]) == (3, 0.5) and type(found.labels[1]) is int


def test_regression_answers_are_values_without_a_label() -> None:
    found = answers("regression", np.array([12.5, -3.0]), [], threshold=0.5)
    assert found.bodies == [{"value": 12.5}, {"value": -3.0}]
    assert found.labels == [None, None] and found.scores[1] == -3.0 and found.label_counts() == {}


def test_a_non_finite_value_or_a_wrong_shape_is_an_error_not_an_answer() -> None:
    with pytest.raises(ValueError, match="non-finite"):
        answers("regression", np.array([1.0, np.inf]), [], 0.5)
    with pytest.raises(ValueError, match="3 classes"):
        answers("multiclass", np.array([[0.5, 0.5]]), ["a", "b", "c"], 0.5)


def test_the_task_and_classes_come_from_the_fitted_model() -> None:
    x = np.arange(12, dtype=float).reshape(-1, 1)
    assert task_of(LinearRegression().fit(x, x.ravel())) == "regression"
    binary = LogisticRegression().fit(x, np.array([0] * 6 + [1] * 6))
    assert task_of(binary) == "binary" and plain_classes(binary) == [0, 1]
    assert type(plain_classes(binary)[0]) is int  # JSON-ready, not numpy.int64
    three = LogisticRegression().fit(x, np.array(["a", "b", "c"] * 4))
    assert task_of(three) == "multiclass" and plain_classes(three) == ["a", "b", "c"]
