"""Smoke test of a running serving API over HTTP (standard library only, so it runs anywhere).

Checks, in order: /health answers, /ready is 200, /version names a model version and backend (optionally the
expected ones), a valid prediction (the example record from the API's own OpenAPI document) returns a request id
and a prediction that fits the task /version names (binary: a known class and a probability in [0, 1];
multiclass: also probabilities of every class summing to 1; regression: a finite value), an invalid request (an
unknown field) gets a 422 naming that field, a malformed body gets a 422, and /metrics counts the requests.
"""

from __future__ import annotations

import json
import math
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

UNKNOWN_FIELD = "smoke_test_unknown_field"


@dataclass
class SmokeResult:
    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed and bool(self.passed)

    def render(self) -> str:
        lines = [f"ok    {item}" for item in self.passed] + [f"FAIL  {item}" for item in self.failed]
        lines.append("smoke test passed" if self.ok else f"smoke test FAILED ({len(self.failed)} problem(s))")
        return "\n".join(lines)


class _Failure(Exception):
    pass


def _call(url: str, method: str = "GET", body: bytes | None = None, timeout: float = 10.0) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except (urllib.error.URLError, OSError) as error:
        raise _Failure(f"{method} {url}: no answer ({error})") from None


def _json(status: int, payload: bytes, what: str) -> Any:
    try:
        return json.loads(payload)
    except ValueError:
        raise _Failure(f"{what}: status {status}, body is not JSON: {payload[:200]!r}") from None


def example_record(openapi: dict[str, Any]) -> dict[str, Any]:
    """The single-record example published in the API's OpenAPI document for POST /predict."""
    body = openapi["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    for option in body.get("oneOf", [body]):
        if "example" in option:
            return dict(option["example"])
    raise KeyError("no example record in the OpenAPI document of POST /predict")


def check_prediction(prediction: dict[str, Any], task: str, classes: list[Any]) -> str:
    """What a prediction says if it fits the task; raises ``ValueError`` saying what does not."""
    if task == "regression":
        value = prediction.get("value")
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError(f"expected a finite 'value', got {prediction}")
        return f"value {value:.6g}"
    label, probability = prediction.get("label"), prediction.get("probability")
    if label not in classes:
        raise ValueError(f"label {label!r} is not one of the model's classes {classes}")
    if isinstance(probability, bool) or not isinstance(probability, int | float) or not 0.0 <= probability <= 1.0:
        raise ValueError(f"probability {probability!r} is not in [0, 1]")
    if task == "multiclass":
        spread = prediction.get("probabilities") or {}
        if sorted(spread) != sorted(str(c) for c in classes) or not math.isclose(
            sum(spread.values()), 1.0, abs_tol=1e-4
        ):
            raise ValueError(f"probabilities {spread} do not cover the classes {classes} or do not sum to 1")
    return f"label {label!r}, probability {probability:.4f}"


def wait_until_up(base: str, timeout: float) -> None:
    """Poll /health until it answers 200 or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    last = "not tried"
    while True:
        try:
            status, _ = _call(f"{base}/health", timeout=2.0)
            if status == 200:
                return
            last = f"status {status}"
        except _Failure as failure:
            last = str(failure)
        if time.monotonic() >= deadline:
            raise _Failure(f"/health did not answer 200 within {timeout:g} s (last: {last})")
        time.sleep(0.25)


def _check_health(base: str, wait: float) -> str:
    wait_until_up(base, wait)
    return "up"


def _check_ready(base: str) -> str:
    status, payload = _call(f"{base}/ready")
    if status != 200:
        raise _Failure(f"status {status}: {payload[:300].decode(errors='replace')}")
    return f"backend {_json(status, payload, 'ready').get('backend')}"


def _check_version(base: str, expect_version: str | None, expect_backend: str | None) -> str:
    status, payload = _call(f"{base}/version")
    info = _json(status, payload, "version")
    if status != 200 or not info.get("model_version") or info.get("backend") not in {"onnx", "sklearn"}:
        raise _Failure(f"status {status}: {info}")
    if expect_version and info["model_version"] != expect_version:
        raise _Failure(f"serves {info['model_version']!r}, expected {expect_version!r}")
    if expect_backend and info["backend"] != expect_backend:
        raise _Failure(f"backend {info['backend']!r}, expected {expect_backend!r}")
    return f"{info['model_version']} ({info['backend']}, commit {str(info.get('git_commit'))[:12]})"


def _example(base: str) -> dict[str, Any]:
    status, payload = _call(f"{base}/openapi.json")
    return example_record(_json(status, payload, "openapi.json"))


def _check_predict(base: str) -> str:
    status, payload = _call(f"{base}/version")
    info = _json(status, payload, "version")
    status, payload = _call(f"{base}/predict", "POST", json.dumps(_example(base)).encode())
    answer = _json(status, payload, "predict")
    if status != 200:
        raise _Failure(f"valid example refused with status {status}: {answer}")
    predictions = answer.get("predictions") or []
    if len(predictions) != 1 or not answer.get("request_id"):
        raise _Failure(f"expected one prediction and a request id, got {answer}")
    try:
        said = check_prediction(predictions[0], str(info.get("task", "binary")), list(info.get("classes") or []))
    except ValueError as error:
        raise _Failure(f"{info.get('task')} model: {error}") from None
    return f"{info.get('task')}: {said}"


def _check_invalid(base: str) -> str:
    record = {**_example(base), UNKNOWN_FIELD: 1}
    status, payload = _call(f"{base}/predict", "POST", json.dumps(record).encode())
    answer = _json(status, payload, "predict")
    named = [e.get("field") for e in answer.get("errors") or []]
    if status != 422 or UNKNOWN_FIELD not in named:
        raise _Failure(f"expected 422 naming {UNKNOWN_FIELD}, got {status}: {answer}")
    status, payload = _call(f"{base}/predict", "POST", b"{not json")
    if status != 422:
        raise _Failure(f"malformed JSON answered {status}, expected 422")
    return "422 naming the field; malformed JSON 422"


def _check_metrics(base: str) -> str:
    status, payload = _call(f"{base}/metrics")
    text = payload.decode(errors="replace")
    if status != 200 or 'slipway_http_requests_total{endpoint="/predict",method="POST",status="200"}' not in text:
        raise _Failure(f"status {status}; prediction requests not counted")
    return "requests counted"


def _step(result: SmokeResult, name: str, check: Callable[[], str]) -> bool:
    """Run one check, noting it as passed (with what it said) or failed (with why); whether it passed."""
    try:
        said = check()
    except _Failure as failure:
        result.failed.append(f"{name}: {failure}")
        return False
    except Exception as error:
        result.failed.append(f"{name}: {type(error).__name__}: {error}")
        return False
    result.passed.append(f"{name}: {said}")
    return True


def smoke_test(
    url: str, *, expect_version: str | None = None, expect_backend: str | None = None, wait: float = 30.0
) -> SmokeResult:
    """Run every check against ``url`` (e.g. http://127.0.0.1:8000); never raises."""
    base = url.rstrip("/")
    result = SmokeResult()
    if not _step(result, "health", lambda: _check_health(base, wait)):
        return result  # nothing else can work
    checks: list[tuple[str, Callable[[], str]]] = [
        ("ready", lambda: _check_ready(base)),
        ("version", lambda: _check_version(base, expect_version, expect_backend)),
        ("predict", lambda: _check_predict(base)),
        ("invalid request", lambda: _check_invalid(base)),
        ("metrics", lambda: _check_metrics(base)),
    ]
    for name, check in checks:
        _step(result, name, check)
    return result
