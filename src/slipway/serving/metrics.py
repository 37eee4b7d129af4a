"""Prometheus metrics of the serving API: requests by status, latency, and the distribution of predictions.

Each app gets its own registry (several apps can live in one process, e.g. in tests). Every label takes a bounded
set of values, so that no client can blow up the number of series: paths outside the API's routes are counted as
``other``, methods outside the standard ones as ``other``, status codes are the ones the app answers with, invalid
fields are the schema's columns or ``(other)``, predicted labels are the model's classes.

Counting costs a request next to nothing: counts are plain numbers added under a lock (a 10,000-row batch is
binned in one numpy call), and they become Prometheus series only when ``/metrics`` is scraped.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
from prometheus_client import CollectorRegistry, Gauge
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    HistogramMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.utils import floatToGoString

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
PROBABILITY_BUCKETS = tuple(round(0.1 * i, 1) for i in range(1, 11))
METHODS = frozenset({"GET", "POST", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"})
"""HTTP methods counted by name; any other method a client invents is counted as ``other``."""


class Buckets:
    """A histogram's counts: one per upper bound (``le``, cumulated only when exported) plus ``+Inf``, and the sum."""

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds = tuple(bounds)
        self._edges = np.asarray(self.bounds, dtype=np.float64)
        self.counts = [0] * (len(self.bounds) + 1)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value

    def observe_many(self, values: np.ndarray) -> None:
        """Every value at once (``value <= le`` as in Prometheus: numpy's left-side search)."""
        binned = np.bincount(np.searchsorted(self._edges, values, side="left"), minlength=len(self.counts))
        self.counts = [a + b for a, b in zip(self.counts, binned.tolist(), strict=True)]
        self.sum += float(values.sum())

    def exported(self) -> list[tuple[str, float]]:
        cumulated, total = [], 0
        for bound, count in zip([*self.bounds, float("inf")], self.counts, strict=True):
            total += count
            cumulated.append((floatToGoString(bound), float(total)))
        return cumulated


class ServingMetrics:
    """The counts behind ``/metrics``; safe to update from the event loop and from batch worker threads."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._lock = threading.Lock()
        self.requests: Counter[tuple[str, str, str]] = Counter()
        self.latency: dict[str, Buckets] = {}
        self.probability = Buckets(PROBABILITY_BUCKETS)
        self.labels: Counter[str] = Counter()
        self.value_count, self.value_sum = 0, 0.0  # count and sum of regression predictions
        self.invalid: Counter[str] = Counter()
        self.registry.register(_Exporter(self))
        self.model_info = Gauge(
            "slipway_model_info", "The served model (value 1)", ["version", "stage", "backend"], registry=self.registry
        )

    def request(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        """One answered HTTP request (``endpoint`` and ``method`` already bounded by the caller)."""
        with self._lock:
            self.requests[(endpoint, method, str(status))] += 1
            buckets = self.latency.get(endpoint)
            if buckets is None:
                buckets = self.latency[endpoint] = Buckets(LATENCY_BUCKETS)
            buckets.observe(seconds)

    def refused(self, fields: Iterable[str]) -> None:
        """One refused request's fields (schema columns or ``(other)``)."""
        with self._lock:
            self.invalid.update(fields)

    def observe_predictions(self, task: str, scores: np.ndarray, label_counts: dict[str, int]) -> None:
        """Scores are probabilities for classifiers and values for regressors; ``label_counts`` counts each class."""
        with self._lock:
            if task == "regression":
                self.value_count += len(scores)
                self.value_sum += float(scores.sum())
            elif len(scores) == 1:
                self.probability.observe(float(scores[0]))
            else:
                self.probability.observe_many(scores)
            self.labels.update(label_counts)


class _Exporter:
    """The counts as Prometheus metric families, built when ``/metrics`` is scraped."""

    def __init__(self, metrics: ServingMetrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        m = self.metrics
        with m._lock:
            requests = CounterMetricFamily(
                "slipway_http_requests", "HTTP requests by endpoint, method and status code",
                labels=["endpoint", "method", "status"],
            )  # fmt: skip
            for key, count in sorted(m.requests.items()):
                requests.add_metric(list(key), count)
            latency = HistogramMetricFamily(
                "slipway_http_request_duration_seconds", "Time to answer an HTTP request", labels=["endpoint"]
            )
            for endpoint, buckets in sorted(m.latency.items()):
                latency.add_metric([endpoint], buckets.exported(), buckets.sum)
            probability = HistogramMetricFamily(
                "slipway_prediction_probability",
                "Binary: predicted probability of the positive class; multiclass: probability of the predicted class",
                buckets=m.probability.exported(), sum_value=m.probability.sum,
            )  # fmt: skip
            labels = _counter(
                "slipway_predictions", "Predicted classes (binary: at the serving threshold)", "label", m.labels
            )
            value = SummaryMetricFamily(
                "slipway_prediction_value",
                "Predicted values (regression)",
                count_value=m.value_count,
                sum_value=m.value_sum,
            )
            invalid = _counter(
                "slipway_invalid_requests", "Prediction requests refused by validation, by field", "field", m.invalid
            )
        yield from (requests, latency, probability, labels, value, invalid)

    def describe(self) -> list[Any]:
        return []  # collected lazily: nothing to check at registration


def _counter(name: str, documentation: str, label: str, counts: Counter[str]) -> CounterMetricFamily:
    family = CounterMetricFamily(name, documentation, labels=[label])
    for key, count in sorted(counts.items()):
        family.add_metric([key], count)
    return family
