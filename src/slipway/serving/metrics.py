"""Prometheus metrics of the serving API: requests by status, latency, and the distribution of predictions.

Each app gets its own registry (several apps can live in one process, e.g. in tests). A small pure-ASGI middleware
times every HTTP request. Every label takes a bounded set of values, so that no client can blow up the number of
series: paths outside the API's routes are counted as ``other``, methods outside the standard ones as ``other``,
status codes are the ones the app answers with, invalid fields are the schema's columns or ``(other)``, predicted
labels are the model's classes.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Summary

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
PROBABILITY_BUCKETS = tuple(round(0.1 * i, 1) for i in range(1, 11))
METHODS = frozenset({"GET", "POST", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"})
"""HTTP methods counted by name; any other method a client invents is counted as ``other``."""


class ServingMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "slipway_http_requests", "HTTP requests by endpoint, method and status code",
            ["endpoint", "method", "status"], registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "slipway_http_request_duration_seconds", "Time to answer an HTTP request",
            ["endpoint"], buckets=LATENCY_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.probability = Histogram(
            "slipway_prediction_probability",
            "Binary: predicted probability of the positive class; multiclass: probability of the predicted class",
            buckets=PROBABILITY_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.labels = Counter(
            "slipway_predictions", "Predicted classes (binary: at the serving threshold)", ["label"],
            registry=self.registry,
        )  # fmt: skip
        self.value = Summary("slipway_prediction_value", "Predicted values (regression)", registry=self.registry)
        self.invalid = Counter(
            "slipway_invalid_requests", "Prediction requests refused by validation, by field", ["field"],
            registry=self.registry,
        )  # fmt: skip
        self.model_info = Gauge(
            "slipway_model_info", "The served model (value 1)", ["version", "stage", "backend"], registry=self.registry
        )

    def observe_predictions(self, task: str, scores: Iterable[float], labels: Iterable[object]) -> None:
        """Scores are probabilities for classifiers and values for regressors; labels are classes or None."""
        observe = self.value.observe if task == "regression" else self.probability.observe
        for score in scores:
            observe(score)
        for label in labels:
            if label is not None:
                self.labels.labels(str(label)).inc()


class MetricsMiddleware:
    """Counts and times every HTTP request (pure ASGI: no per-request task or body buffering)."""

    def __init__(self, app: Any, metrics: ServingMetrics, endpoints: Iterable[str]) -> None:
        self.app = app
        self.metrics = metrics
        self.endpoints = frozenset(endpoints)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recording_send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            path = scope.get("path", "")
            endpoint = path if path in self.endpoints else "other"
            method = scope.get("method", "")
            self.metrics.requests.labels(endpoint, method if method in METHODS else "other", str(status)).inc()
            self.metrics.latency.labels(endpoint).observe(time.perf_counter() - started)
