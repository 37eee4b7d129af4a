"""The serving metrics: counted as plain numbers (a batch binned in one call), exported as Prometheus would."""

from __future__ import annotations

import numpy as np
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from slipway.serving.metrics import LATENCY_BUCKETS, PROBABILITY_BUCKETS, ServingMetrics


def _samples(text: str, prefix: str) -> dict[str, str]:
    return {
        line.rsplit(" ", 1)[0]: line.rsplit(" ", 1)[1]
        for line in text.splitlines()
        if line.startswith(prefix) and not line.startswith(f"{prefix.split('{')[0]}_created")
    }


def test_a_batch_is_binned_exactly_as_prometheus_client_bins_it_value_by_value() -> None:
    rng = np.random.default_rng(7)
    scores = np.concatenate([rng.random(10_000), np.array(PROBABILITY_BUCKETS), [0.0, 1.0, 0.1 + 1e-12]])
    metrics = ServingMetrics()
    metrics.observe_predictions("binary", scores[:1], {"1": 1})  # one record: the scalar path
    metrics.observe_predictions("binary", scores[1:], {"0": 5_000, "1": len(scores) - 5_001})
    reference = CollectorRegistry()
    histogram = Histogram(
        "slipway_prediction_probability", "x", buckets=PROBABILITY_BUCKETS, registry=reference
    )  # fmt: skip
    labels = Counter("slipway_predictions", "x", ["label"], registry=reference)
    for score in scores.tolist():
        histogram.observe(score)
    labels.labels("0").inc(5_000)
    labels.labels("1").inc(len(scores) - 5_000)
    ours, theirs = generate_latest(metrics.registry).decode(), generate_latest(reference).decode()
    for prefix in ("slipway_prediction_probability_bucket", "slipway_prediction_probability_count"):
        assert _samples(ours, prefix) == _samples(theirs, prefix) and _samples(ours, prefix)
    (total,) = _samples(ours, "slipway_prediction_probability_sum").values()
    assert np.isclose(float(total), scores.sum(), rtol=1e-12)  # (summed in another order)
    assert _samples(ours, "slipway_predictions_total") == _samples(theirs, "slipway_predictions_total")


def test_requests_latency_refusals_and_regression_values_are_exported() -> None:
    metrics = ServingMetrics()
    for seconds in (0.0004, 0.001, 0.003, 20.0):
        metrics.request("/predict", "POST", 200, seconds)
    metrics.request("other", "other", 404, 0.0001)
    metrics.refused(["age", "(other)", "age"])
    metrics.observe_predictions("regression", np.array([2.0, 3.5]), {})
    text = generate_latest(metrics.registry).decode()
    assert 'slipway_http_requests_total{endpoint="/predict",method="POST",status="200"} 4.0' in text
    assert 'slipway_http_requests_total{endpoint="other",method="other",status="404"} 1.0' in text
    assert 'slipway_http_request_duration_seconds_bucket{endpoint="/predict",le="0.0005"} 1.0' in text
    assert 'slipway_http_request_duration_seconds_bucket{endpoint="/predict",le="0.001"} 2.0' in text
    assert f'slipway_http_request_duration_seconds_bucket{{endpoint="/predict",le="{LATENCY_BUCKETS[-1]}"}} 3.0' in text
    assert 'slipway_http_request_duration_seconds_bucket{endpoint="/predict",le="+Inf"} 4.0' in text
    assert 'slipway_invalid_requests_total{field="age"} 2.0' in text
    assert "slipway_prediction_value_count 2.0" in text and "slipway_prediction_value_sum 5.5" in text
    assert "# TYPE slipway_http_requests_total counter" in text
