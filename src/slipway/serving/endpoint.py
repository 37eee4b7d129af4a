"""``POST /predict`` as a plain ASGI handler: read the body, parse, validate, predict, answer; log and count after.

The route is answered without FastAPI's request machinery (about 70 µs a request, more than the model takes): the
body is read from the ASGI messages with its limit, the answer is serialised by orjson and sent as two messages.
What a request costs besides the model: parsing (orjson), validation (``slipway.serving.checks``' fast path),
handing the answered request to the prediction log's writer thread, and a few counters under a lock.

A body up to ``INLINE_BODY_BYTES`` is answered on the event loop; a bigger one is parsed, validated, predicted and
logged in a worker thread (one such batch at a time, so memory stays bounded), so that health checks and small
requests keep being answered meanwhile. No request can cause an unhandled error: everything is caught here, and
whatever a client sent is escaped and cut short before it is echoed or logged (``slipway.serving.echo``).
"""

from __future__ import annotations

import json
import logging
import traceback
import uuid
from datetime import UTC, datetime
from typing import Any, Protocol

import anyio
import anyio.to_thread
import orjson
from starlette.types import Receive, Scope, Send

from slipway.serving.body import BodyTooLarge, ClientGone, parse_json, read_body, release
from slipway.serving.echo import echo
from slipway.serving.metrics import ServingMetrics
from slipway.serving.model import LoadedModel
from slipway.serving.prediction_log import LoggedRequest, PredictionLog
from slipway.serving.validation import FieldError, RequestInvalid

log = logging.getLogger(__name__)

MAX_RECORDS = 100_000
INLINE_BODY_BYTES = 8 * 1024  # bodies up to this size (the fast path's) are answered on the event loop
BATCH_WORKERS = 1  # bigger bodies are answered in a worker thread, this many at a time (each holds tens of MB)


class ModelSource(Protocol):
    error: str | None

    def ensure_loaded(self) -> LoadedModel | None: ...


def error_body(detail: str, errors: list[FieldError] | None = None, request_id: str | None = None) -> bytes:
    """The JSON of an error answer: ``detail``, each field error (echoed safely), the request id."""
    body = {"detail": detail, "errors": [e.as_dict() for e in errors or []], "request_id": request_id}
    return json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def records_of(body: Any) -> list[Any]:
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


def columns_of(body: dict[str, Any]) -> dict[str, list[Any]]:
    """The columns of a columnar body, ``{"columns": {"field": [value, ...], ...}}``: lists of one length, 1 to
    ``MAX_RECORDS`` values each (record ``i`` is every column's value ``i``)."""
    extra = [key for key in body if key != "columns"]
    if extra:
        raise RequestInvalid([FieldError(k, "unknown field next to 'columns'") for k in extra])
    columns = body["columns"]
    if not isinstance(columns, dict) or not columns:
        raise RequestInvalid([FieldError("columns", "must map each field to its list of values", None, columns)])
    not_lists = [
        FieldError(name, "must be a list of values", None, v) for name, v in columns.items() if type(v) is not list
    ]
    if not_lists:
        raise RequestInvalid(not_lists)
    lengths = {len(values) for values in columns.values()}
    if len(lengths) > 1:
        counts = ", ".join(f"{len(values):,}" for values in columns.values())
        raise RequestInvalid([FieldError("columns", f"every column must have as many values (here {counts})")])
    size = lengths.pop()
    if not size:
        raise RequestInvalid([FieldError("columns", "must hold at least one value per column")])
    if size > MAX_RECORDS:
        raise RequestInvalid([FieldError("columns", f"at most {MAX_RECORDS:,} values per column")])
    return columns


class PredictEndpoint:
    """``POST /predict`` (see the module docstring); calling it answers one request and returns the status sent."""

    def __init__(
        self, models: ModelSource, metrics: ServingMetrics, prediction_log: PredictionLog | None, body_limit: int
    ) -> None:
        self.models, self.metrics, self.prediction_log, self.body_limit = models, metrics, prediction_log, body_limit
        self._batch_slots: anyio.CapacityLimiter | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> int:
        request_id = uuid.uuid4().hex
        try:
            status, body = await self._respond(scope, receive, request_id)
        except Exception as error:  # the boundary: a defect answers 500, never a traceback or the request's text
            frames = "".join(traceback.format_tb(error.__traceback__)).rstrip()  # source lines only
            log.error("unhandled error on /predict: %s\n%s", echo(f"{type(error).__name__}: {error}"), frames)
            status, body = 500, error_body("internal error", request_id=request_id)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"x-request-id", request_id.encode()),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return status

    async def _respond(self, scope: Scope, receive: Receive, request_id: str) -> tuple[int, bytes]:
        model = self.models.ensure_loaded()
        if model is None:
            return 503, error_body(f"model not loaded: {self.models.error}", request_id=request_id)
        try:
            raw = await read_body(scope["headers"], receive, self.body_limit)
        except BodyTooLarge as error:
            return 413, error_body(str(error), request_id=request_id)
        except ClientGone:
            return 400, error_body("the client went away before sending the whole body", request_id=request_id)
        if len(raw) <= INLINE_BODY_BYTES:
            return self.answer(model, raw, request_id)
        if self._batch_slots is None:  # made here: an anyio limiter belongs to the running event loop
            self._batch_slots = anyio.CapacityLimiter(BATCH_WORKERS)
        return await anyio.to_thread.run_sync(self.answer, model, raw, request_id, limiter=self._batch_slots)

    def answer(self, model: LoadedModel, raw: bytes, request_id: str) -> tuple[int, bytes]:
        """Parse, validate, predict and log one request body (blocking: big bodies run in a worker thread)."""
        try:
            body = parse_json(raw)
        except (ValueError, RecursionError) as error:
            return self.refuse(model, RequestInvalid([FieldError("(body)", f"malformed JSON: {error}")]), request_id)
        try:
            return self.answer_records(model, body, request_id)
        finally:
            if isinstance(body, dict) and isinstance(body.get("records"), list):
                release(body["records"])

    def refuse(self, model: LoadedModel, invalid: RequestInvalid, request_id: str) -> tuple[int, bytes]:
        """The 422 for a request that does not match the schema (counted per schema field, others as ``(other)``)."""
        self.metrics.refused(e.field if e.field in model.validator.rules else "(other)" for e in invalid.errors)
        return 422, error_body("request does not match the model's input schema", invalid.errors, request_id)

    def answer_records(self, model: LoadedModel, body: Any, request_id: str) -> tuple[int, bytes]:
        """Validate, predict, count, hand to the log, answer; a big batch's lists are let go of a slice at a time."""
        try:
            if isinstance(body, dict) and "columns" in body:
                batch = model.validator.validate_columns(columns_of(body))
            else:
                batch = model.validator.validate(records_of(body))
        except RequestInvalid as invalid:
            return self.refuse(model, invalid, request_id)
        except Exception as error:  # the boundary: nothing a client sends may surface as a 500
            log.warning("refused an unreadable request: %s", echo(f"{type(error).__name__}: {error}"))
            problem = FieldError("(body)", f"cannot be read: {type(error).__name__}")
            return self.refuse(model, RequestInvalid([problem]), request_id)
        answered = model.predict(batch)
        self.metrics.observe_predictions(model.task, answered.scores, answered.label_counts())
        version, backend = model.model_version, model.backend
        if self.prediction_log is not None:  # the log's thread formats and writes, and lets go of the records
            when = datetime.now(UTC)
            logged = LoggedRequest(when, request_id, version, backend, batch.records, answered.scores, answered.labels)
            self.prediction_log.submit(logged)
        elif isinstance(batch.records, list):
            release(batch.records)
        head = {"request_id": request_id, "model_version": version, "backend": backend}
        text = orjson.dumps({**head, "predictions": answered.bodies})
        release(answered.bodies)
        return 200, text
