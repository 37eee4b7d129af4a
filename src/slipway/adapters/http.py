"""HTTP to the project's own services: one request function, JSON on top of it, one poll-until-ready loop, and a
free loopback port to serve on."""

from __future__ import annotations

import json
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass


class NotReady(RuntimeError):
    """A service did not become ready; the message says why."""


@dataclass(frozen=True)
class Response:
    """What a request got: the status and body, or status 0 and why nothing answered."""

    status: int
    body: bytes = b""
    error: str = ""


def request(
    url: str, method: str = "GET", body: bytes | None = None, timeout: float = 10.0, verify: bool = True
) -> Response:
    """One HTTP request (a JSON body when ``body`` is given). Error statuses are answers too; a refused
    connection, a timeout or a bad URL is status 0 with the reason in ``error``. ``verify=False`` accepts any
    TLS certificate (a server configured so, e.g. a DVC remote with ``ssl_verify: false``)."""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    context = None if verify else ssl._create_unverified_context()
    try:
        sent = urllib.request.Request(url, data=body, method=method, headers=headers)
        with urllib.request.urlopen(sent, timeout=timeout, context=context) as response:
            return Response(response.status, response.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, error.read())
    except (urllib.error.URLError, OSError, ValueError) as error:
        return Response(0, error=str(getattr(error, "reason", None) or error) or type(error).__name__)


def http_json(url: str, body: object = None, timeout: float = 5.0) -> tuple[int, object]:
    """GET ``url`` (POST ``body`` as JSON when given): (status, parsed JSON body or None). Status 0 when
    nothing answered."""
    data = None if body is None else json.dumps(body).encode()
    answer = request(url, "GET" if data is None else "POST", data, timeout)
    try:
        return answer.status, json.loads(answer.body) if answer.body else None
    except ValueError:
        return answer.status, None


def wait_ready(url: str, timeout: float, alive: Callable[[], bool] = lambda: True) -> None:
    """Poll ``/ready`` until it answers 200; fail early (NotReady) when the model failed to load or the server
    process is gone."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = http_json(f"{url}/ready", timeout=2.0)
        if status == 200:
            return
        detail = body.get("detail") if isinstance(body, dict) else None
        if status == 503 and isinstance(detail, str) and detail.startswith("model not loaded"):
            raise NotReady(f"{url}/ready: {detail}")  # the server tried and failed: waiting will not help
        if not alive():
            raise NotReady(f"the server for {url} exited before it was ready")
        time.sleep(0.25)
    raise NotReady(f"{url}/ready did not answer 200 within {timeout:.0f} s")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]
