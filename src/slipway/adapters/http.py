"""HTTP to the project's own services: one JSON GET and one poll-until-ready loop."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable


class NotReady(RuntimeError):
    """A service did not become ready; the message says why."""


def http_json(url: str, timeout: float = 5.0) -> tuple[int, object]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = response.read()
            return response.status, json.loads(body) if body else None
    except urllib.error.HTTPError as error:
        try:
            return error.code, json.loads(error.read() or b"null")
        except ValueError:
            return error.code, None
    except (urllib.error.URLError, OSError, ValueError):
        return 0, None


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
