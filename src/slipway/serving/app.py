"""The serving API: ``create_app(model_dir)`` returns a FastAPI app that predicts with the model in that folder.

Routes: ``POST /predict`` (one record, or ``{"records": [...]}``), ``GET /health`` (the process answers),
``/ready`` (the model is loaded), ``/version`` (model version, stage, commit, data hash, backend), ``/metrics``
(Prometheus). A request that does not match the model-input schema gets a 422 naming each field and reason; no
request can cause an unhandled error: everything is caught at the boundary, and whatever a client sent is escaped and
cut short before it is echoed or logged (``slipway.serving.echo``).

Every input is bounded: the body (``max_body_bytes``, counted as it streams in: 413 beyond it), the records per request
(``MAX_RECORDS``), the label values of the metrics. ``POST /predict`` is answered by ``slipway.serving.endpoint``
ahead of FastAPI's routing (the route declared here documents it in ``/openapi.json``); a big body is answered in a
worker thread, so that health checks and small requests keep being answered meanwhile.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
import traceback
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Message, Receive, Scope, Send

from slipway.serving.body import max_body_from_env
from slipway.serving.echo import echo
from slipway.serving.endpoint import MAX_RECORDS, PredictEndpoint, error_body
from slipway.serving.metrics import METHODS, ServingMetrics
from slipway.serving.model import Backend, LoadedModel, load_served_model
from slipway.serving.prediction_log import PredictionLog, log_from_env
from slipway.serving.validation import FieldError, records_json_schema

log = logging.getLogger(__name__)

__all__ = ["ENDPOINTS", "MAX_RECORDS", "ServingAPI", "create_app"]
ENDPOINTS = ("/predict", "/health", "/ready", "/version", "/metrics")


class Prediction(BaseModel):
    """One record's prediction; which fields are present depends on the task (see /version's ``task``)."""

    label: int | float | str | bool | None = Field(None, description="Predicted class (classification)")
    probability: float | None = Field(
        None, description="Binary: probability of the positive class. Multiclass: probability of the label."
    )
    probabilities: dict[str, float] | None = Field(None, description="Multiclass: probability of every class")
    value: float | None = Field(None, description="Predicted value (regression)")


class PredictionResponse(BaseModel):
    request_id: str
    model_version: str
    backend: str
    predictions: list[Prediction]


class ErrorItem(BaseModel):
    field: str
    record: int | None = None
    reason: str
    value: Any = None


class ErrorResponse(BaseModel):
    detail: str
    errors: list[ErrorItem] = []
    request_id: str | None = None


class ModelState:
    """Loads the model once (at start-up, or on first use) and remembers why it failed if it did."""

    def __init__(self, model_dir: Path, backend: Backend, params_path: Path) -> None:
        self.model_dir, self.backend, self.params_path = model_dir, backend, params_path
        self.model: LoadedModel | None = None
        self.error: str | None = None
        self._lock = threading.Lock()
        self._tried = False

    def ensure_loaded(self) -> LoadedModel | None:
        if not self._tried:
            with self._lock:
                if not self._tried:
                    try:
                        self.model = load_served_model(self.model_dir, self.backend, self.params_path)
                    except Exception as error:  # the server stays up and reports not ready, with the reason
                        self.error = f"{type(error).__name__}: {error}"
                        log.error("model not loaded: %s", self.error)
                    self._tried = True
        return self.model


def _error(status: int, detail: str, errors: list[FieldError] | None = None) -> Response:
    return Response(error_body(detail, errors), status_code=status, media_type="application/json")


class ServingAPI(FastAPI):
    """The FastAPI app, answering ``POST /predict`` itself before any middleware or routing, and counting every
    HTTP request (endpoint, method and status, all from bounded sets; latency) in the metrics."""

    predict_endpoint: PredictEndpoint
    serving_metrics: ServingMetrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        started, status = time.perf_counter(), 500
        path, method = scope["path"], scope["method"]
        if path == "/predict" and method == "POST":
            try:
                status = await self.predict_endpoint(scope, receive, send)
            finally:
                self.serving_metrics.request(path, method, status, time.perf_counter() - started)
            return

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await super().__call__(scope, receive, recording_send)
        finally:
            endpoint = path if path in ENDPOINTS else "other"
            method = method if method in METHODS else "other"
            self.serving_metrics.request(endpoint, method, status, time.perf_counter() - started)


class _Answer(Response):
    """A response made by the predict endpoint itself (when FastAPI's router, not ``ServingAPI``, routes to it)."""

    def __init__(self, endpoint: PredictEndpoint) -> None:
        self.endpoint, self.background = endpoint, None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.endpoint(scope, receive, send)


def create_app(
    model_dir: Path | str,
    *,
    backend: Backend = "auto",
    prediction_log: Path | str | None = None,
    params_path: Path | str = "params.yaml",
    max_body_bytes: int | None = None,
) -> ServingAPI:
    """The API serving the model folder ``model_dir`` (see ``slipway.serving.model``).

    ``prediction_log``: folder for the prediction log; when None, ``$SLIPWAY_PREDICTION_LOG``; unset = off.
    ``max_body_bytes``: the largest request body; when None, ``$SLIPWAY_MAX_BODY_BYTES``, else 4 MiB.
    """
    body_limit = max_body_bytes if max_body_bytes is not None else max_body_from_env()
    if body_limit < 1:
        raise ValueError(f"max_body_bytes must be a positive number of bytes, got {body_limit}")
    state = ModelState(Path(model_dir), backend, Path(params_path))
    metrics = ServingMetrics()
    predictions_log = log_from_env(prediction_log)
    app = ServingAPI(
        title="Slipway model API",
        description="Predictions from the served model; requests are validated with the model-input schema.",
        version="1",
        lifespan=_lifespan(state, metrics, predictions_log),
    )
    app.state.model_state = state
    app.state.metrics = app.serving_metrics = metrics
    app.predict_endpoint = PredictEndpoint(state, metrics, predictions_log, body_limit)
    _handle_errors(app)
    _document_predict(app, state.ensure_loaded())  # loaded now, so the OpenAPI document describes its records
    _add_routes(app, state, metrics)
    return app


def _lifespan(state: ModelState, metrics: ServingMetrics, predictions_log: PredictionLog | None) -> Any:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        loaded = await run_in_threadpool(state.ensure_loaded)
        if loaded is not None:
            metrics.model_info.labels(loaded.model_version, str(loaded.version.get("stage", "")), loaded.backend).set(1)
        gc.freeze()  # what lives as long as the server (modules, model) is left out of collections during big batches
        yield
        if predictions_log is not None:
            await run_in_threadpool(predictions_log.close)  # every answered request's lines are written

    return lifespan


def _handle_errors(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> Response:
        errors = [FieldError(".".join(map(str, e.get("loc", ()))), str(e.get("msg"))) for e in error.errors()]
        return _error(422, "invalid request", errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"detail": error.detail}, status_code=error.status_code, headers=error.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> Response:
        frames = "".join(traceback.format_tb(error.__traceback__)).rstrip()  # source lines only, no request text
        problem = echo(f"{type(error).__name__}: {error}")
        log.error("unhandled error on %s: %s\n%s", echo(request.url.path), problem, frames)
        return _error(500, "internal error")


def _document_predict(app: ServingAPI, loaded: LoadedModel | None) -> None:
    """Declare ``POST /predict`` with the records this model takes (``ServingAPI`` answers it before routing)."""
    record_schema = records_json_schema(loaded.schema) if loaded else {"type": "object"}
    request_schema = {
        "oneOf": [
            {
                "type": "object",
                "properties": {"records": {"type": "array", "items": record_schema, "minItems": 1}},
                "required": ["records"],
                "additionalProperties": False,
            },
            record_schema,
            {
                "type": "object",
                "properties": {"columns": _columns_schema(record_schema)},
                "required": ["columns"],
                "additionalProperties": False,
            },
        ]
    }

    @app.post(
        "/predict",
        response_model=PredictionResponse,
        responses={422: {"model": ErrorResponse}, 503: {"model": ErrorResponse}},
        openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": request_schema}}}},
    )
    async def predict(request: Request) -> Response:
        """Predict for one record, for ``{"records": [...]}``, or for ``{"columns": {"field": [...], ...}}`` (the same
        records as one list of values per field: the cheapest to read for a big batch).

        Each prediction holds ``label`` and ``probability`` (binary), plus ``probabilities`` of every class
        (multiclass), or ``value`` (regression).
        """
        return _Answer(app.predict_endpoint)


def _columns_schema(record_schema: dict[str, Any]) -> dict[str, Any]:
    """JSON Schema of a columnar body's ``columns``: each field of a record as a list of its values."""
    fields = record_schema.get("properties")
    if fields is None:
        return {"type": "object"}
    return {
        "type": "object",
        "properties": {name: {"type": "array", "items": field, "minItems": 1} for name, field in fields.items()},
        "required": record_schema.get("required", []),
        "additionalProperties": False,
        "description": "one list of values per field, all of one length; record i is every list's value i",
    }


def _add_routes(app: FastAPI, state: ModelState, metrics: ServingMetrics) -> None:
    @app.get("/health")
    async def health() -> dict[str, str]:
        """The process is up (it says nothing about the model: see /ready)."""
        return {"status": "ok"}

    @app.get("/ready", responses={503: {"model": ErrorResponse}})
    async def ready() -> Response:
        """200 once the model is loaded; 503 with the reason otherwise."""
        model = state.ensure_loaded()
        if model is None:
            return _error(503, f"model not loaded: {state.error}")
        return JSONResponse({"status": "ready", "backend": model.backend, "load_seconds": model.load_seconds})

    @app.get("/version", responses={503: {"model": ErrorResponse}})
    async def version() -> Response:
        """Which model serves: version and stage (from the deploy), commit, data hash, backend."""
        model = state.ensure_loaded()
        if model is None:
            return _error(503, f"model not loaded: {state.error}")
        return JSONResponse(_version(model))

    @app.get("/metrics")
    async def prometheus() -> Response:
        """Prometheus text format."""
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


def _version(model: LoadedModel) -> dict[str, Any]:
    data = model.metadata.get("data") or {}
    return {
        "model_version": model.model_version,
        "stage": model.version.get("stage"),
        "git_commit": model.version.get("commit"),  # deployed: the version's commit; workspace: None
        "data_hash": data.get("dataset_md5"),
        "backend": model.backend,
        "backend_reason": model.backend_reason,
        "features": model.features,
        "task": model.task,
        "classes": model.classes,
        "threshold": model.threshold if model.task == "binary" else None,
        "deploy": model.version,
    }
