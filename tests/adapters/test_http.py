"""The one HTTP client and poll-until-ready loop: answers, refusals and a server that cannot load its model."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from slipway.adapters.http import NotReady, free_port, http_json, request, wait_ready

pytestmark = pytest.mark.slow  # starts processes or servers


class _Handler(BaseHTTPRequestHandler):
    """/echo answers the posted JSON; /ready answers what the test put in ``server.ready``; /text is not JSON."""

    def do_GET(self) -> None:
        if self.path == "/ready":
            status, body = self.server.ready  # type: ignore[attr-defined]
            self._send(status, json.dumps(body).encode())
        else:
            self._send(200 if self.path == "/text" else 404, b"plain text, not JSON")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        kind = self.headers["Content-Type"]
        self._send(200, json.dumps({"got": json.loads(body), "content_type": kind}).encode())

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), _Handler)
    httpd.ready = (200, {"status": "ready"})  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _url(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def test_a_closed_port_is_status_0_with_the_reason() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    assert http_json(f"{url}/version") == (0, None)
    refused = request(f"{url}/version", timeout=2)
    assert refused.status == 0 and "refused" in refused.error.lower()
    assert request("not a url").status == 0


def test_json_is_posted_and_error_statuses_and_text_bodies_are_answers(server: ThreadingHTTPServer) -> None:
    url = _url(server)
    assert http_json(f"{url}/echo", {"age": 41}) == (200, {"got": {"age": 41}, "content_type": "application/json"})
    assert http_json(f"{url}/missing") == (404, None)
    assert http_json(f"{url}/text") == (200, None)
    assert request(f"{url}/text").body == b"plain text, not JSON"


def test_wait_ready_returns_on_200_and_fails_fast_when_the_model_did_not_load(server: ThreadingHTTPServer) -> None:
    url = _url(server)
    wait_ready(url, timeout=5)
    server.ready = (503, {"detail": "model not loaded: FileNotFoundError: model.skops"})  # type: ignore[attr-defined]
    started = time.monotonic()
    with pytest.raises(NotReady, match="model not loaded: FileNotFoundError"):
        wait_ready(url, timeout=30)
    assert time.monotonic() - started < 5  # the server tried and failed: no point in waiting out the timeout


def test_wait_ready_stops_when_the_server_process_is_gone() -> None:
    with pytest.raises(NotReady, match="exited before it was ready"):
        wait_ready(f"http://127.0.0.1:{free_port()}", timeout=30, alive=lambda: False)
    with pytest.raises(NotReady, match="did not answer 200 within 1 s"):
        wait_ready(f"http://127.0.0.1:{free_port()}", timeout=1)
