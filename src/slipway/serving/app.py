"""The serving API: ``create_app(model_dir)`` returns a FastAPI app that predicts with the model in that folder.

Routes: ``POST /predict`` (one record, or ``{"records": [...]}``), ``GET /health`` (the process answers),
``/ready`` (the model is loaded), ``/version`` (model version, stage, commit, data hash, backend), ``/metrics``
(Prometheus). A request that does not match the model-input schema gets a 422 naming each field and reason; no
request can cause an unhandled error: everything is caught at the boundary, and whatever a client sent is escaped and
cut short before it is echoed or logged (``slipway.serving.echo``).

Every input is bounded: the body (``max_body_bytes``, counted as it streams in: 413 beyond it), the records per request
(``MAX_RECORDS``), the label values of the metrics. A body too big for the fast path is parsed, validated, predicted
and logged in a worker thread (one such batch at a time, so memory stays bounded), so that health checks and small
requests keep being answered meanwhile.
"""

from __future__ import annotations

import gc
import json
import logging
import threading
import traceback
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from slipway.serving.body import BodyTooLarge, max_body_from_env, parse_json, read_body, release
from slipway.serving.echo import echo
from slipway.serving.metrics import MetricsMiddleware, ServingMetrics
from slipway.serving.model import Backend, LoadedModel, load_served_model
from slipway.serving.prediction_log import PredictionLog, log_from_env, records_for_request
from slipway.serving.validation import FieldError, RequestInvalid, records_json_schema

log = logging.getLogger(__name__)

MAX_RECORDS = 100_000
INLINE_BODY_BYTES = 8 * 1024  # bodies up to this size (the fast path's) are answered on the event loop
BATCH_WORKERS = 1  # bigger bodies are answered in a worker thread, this many at a time (each holds tens of MB)
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
        self.batch_slots: anyio.CapacityLimiter | None = None
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


def _error(status: int, detail: str, errors: list[FieldError] | None = None, request_id: str | None = None):
    body = {"detail": detail, "errors": [e.as_dict() for e in errors or []], "request_id": request_id}
    return JSONResponse(body, status_code=status)


def _records_of(body: Any) -> list[Any]:
    """The records of a request body: ``{"records": [...]}`` or a single record object."""
    if isinstance(body, dict) and "records" in body:
        extra = [key for key in body if key != "records"]
        if extra:
            raise RequestInvalid([FieldError(k, "unknown field next to 'records'") for k in extra])
        records = body["records"]
        if not isinstance(records, list):
            raise RequestInvalid([FieldError("records", "must be a list of records", None, records)])
        if not records:
            raise RequestInvalid([FieldError("records", "must hold at least one record")])
        if len(records) > MAX_RECORDS:
            raise RequestInvalid([FieldError("records", f"at most {MAX_RECORDS:,} records per request")])
        return records
    if isinstance(body, dict):
        return [body]
    raise RequestInvalid([FieldError("(body)", 'must be a record object or {"records": [...]}', None, body)])


def create_app(
    model_dir: Path | str,
    *,
    backend: Backend = "auto",
    prediction_log: Path | str | None = None,
    params_path: Path | str = "params.yaml",
    max_body_bytes: int | None = None,
) -> FastAPI:
    """The API serving the model folder ``model_dir`` (see ``slipway.serving.model``).

    ``prediction_log``: folder for the prediction log; when None, ``$SLIPWAY_PREDICTION_LOG``; unset = off.
    ``max_body_bytes``: the largest request body; when None, ``$SLIPWAY_MAX_BODY_BYTES``, else 4 MiB.
    """
    body_limit = max_body_bytes if max_body_bytes is not None else max_body_from_env()
    if body_limit < 1:
        raise ValueError(f"max_body_bytes must be a positive number of bytes, got {body_limit}")
    state = ModelState(Path(model_dir), backend, Path(params_path))
    metrics = ServingMetrics()
    predictions_log: PredictionLog | None = log_from_env(prediction_log)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        loaded = await run_in_threadpool(state.ensure_loaded)
        if loaded is not None:
            metrics.model_info.labels(loaded.model_version, str(loaded.version.get("stage", "")), loaded.backend).set(1)
        gc.freeze()  # what lives as long as the server (modules, model) is left out of collections during big batches
        yield
        if predictions_log is not None:
            predictions_log.close()

    app = FastAPI(
        title="Slipway model API",
        description="Predictions from the served model; requests are validated with the model-input schema.",
        version="1",
        lifespan=lifespan,
    )
    app.state.model_state = state
    app.state.metrics = metrics
    app.add_middleware(MetricsMiddleware, metrics=metrics, endpoints=ENDPOINTS)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [FieldError(".".join(map(str, e.get("loc", ()))), str(e.get("msg"))) for e in error.errors()]
        return _error(422, "invalid request", errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"detail": error.detail}, status_code=error.status_code, headers=error.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        frames = "".join(traceback.format_tb(error.__traceback__)).rstrip()  # source lines only, no request text
        problem = echo(f"{type(error).__name__}: {error}")
        log.error("unhandled error on %s: %s\n%s", echo(request.url.path), problem, frames)
        return _error(500, "internal error")

    loaded = state.ensure_loaded()  # now, so the OpenAPI document can describe the records this model takes
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
        ]
    }

    @app.post(
        "/predict",
        response_model=PredictionResponse,
        responses={422: {"model": ErrorResponse}, 503: {"model": ErrorResponse}},
        openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": request_schema}}}},
    )
    async def predict(request: Request) -> Response:
        """Predict for one record, or for ``{"records": [...]}``.

        Each prediction holds ``label`` and ``probability`` (binary), plus ``probabilities`` of every class
        (multiclass), or ``value`` (regression).
        """
        request_id = uuid.uuid4().hex
        model = state.ensure_loaded()
        if model is None:
            return _error(503, f"model not loaded: {state.error}", request_id=request_id)
        try:
            raw = await read_body(request, body_limit)
        except BodyTooLarge as error:
            return _error(413, str(error), request_id=request_id)
        except ClientDisconnect:
            return _error(400, "the client went away before sending the whole body", request_id=request_id)
        if len(raw) <= INLINE_BODY_BYTES:
            return answer(model, raw, request_id)
        if state.batch_slots is None:  # made here: an anyio limiter belongs to the running event loop
            state.batch_slots = anyio.CapacityLimiter(BATCH_WORKERS)
        return await anyio.to_thread.run_sync(answer, model, raw, request_id, limiter=state.batch_slots)

    def answer(model: LoadedModel, raw: bytes, request_id: str) -> Response:
        """Parse, validate, predict and log one request body (blocking: big bodies run in a worker thread)."""
        try:
            body = parse_json(raw)
        except (ValueError, RecursionError) as error:
            return refuse(model, RequestInvalid([FieldError("(body)", f"malformed JSON: {error}")]), request_id)
        try:
            return answer_records(model, body, request_id)
        finally:
            if isinstance(body, dict) and isinstance(body.get("records"), list):
                release(body["records"])

    def refuse(model: LoadedModel, invalid: RequestInvalid, request_id: str) -> Response:
        """The 422 for a request that does not match the schema (counted per schema field, others as ``(other)``)."""
        for item in invalid.errors:
            metrics.invalid.labels(item.field if item.field in model.validator.rules else "(other)").inc()
        return _error(422, "request does not match the model's input schema", invalid.errors, request_id)

    def answer_records(model: LoadedModel, body: Any, request_id: str) -> Response:
        """Validate, predict, log and answer; big lists are let go of a slice at a time (see ``release``)."""
        try:
            batch = model.validator.validate(_records_of(body))
        except RequestInvalid as invalid:
            return refuse(model, invalid, request_id)
        except Exception as error:  # the boundary: nothing a client sends may surface as a 500
            log.warning("refused an unreadable request: %s", echo(f"{type(error).__name__}: {error}"))
            problem = FieldError("(body)", f"cannot be read: {type(error).__name__}")
            return refuse(model, RequestInvalid([problem]), request_id)

        answered = model.predict(batch)
        scores = [a.score for a in answered]
        labels = [a.label for a in answered]
        metrics.observe_predictions(model.task, scores, labels)
        if predictions_log is not None:
            predictions_log.write(
                records_for_request(
                    request_id=request_id, inputs=batch.records, probabilities=scores, labels=labels,
                    model_version=model.model_version, backend=model.backend, timestamp=datetime.now(UTC),
                )
            )  # fmt: skip
        head = json.dumps({"request_id": request_id, "model_version": model.model_version, "backend": model.backend})
        predictions = ", ".join(map(json.dumps, (a.body for a in answered)))  # short calls: no long hold of the GIL
        release(batch.records)
        release(answered)
        text = f'{head[:-1]}, "predictions": [{predictions}]}}'
        return Response(text, media_type="application/json", headers={"X-Request-ID": request_id})

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
        data = model.metadata.get("data") or {}
        return JSONResponse(
            {
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
        )

    @app.get("/metrics")
    async def prometheus() -> Response:
        """Prometheus text format."""
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app
