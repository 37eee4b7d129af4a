"""Hostile requests to `slipway serve` over real HTTP on loopback: every answer a 4xx with a bounded, escaped echo,
no forged log line, bounded memory for huge bodies, bounded metric series, and /health answering during a big batch.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from support import free_port, start_server, stop_server, wait_ready
from support.demo import VALID
from support.memory import memory_kib

from slipway.serving.app import ENDPOINTS
from slipway.serving.body import DEFAULT_MAX_BODY_BYTES
from slipway.serving.echo import ECHO_LIMIT

MB = 1024 * 1024
ARABIC_INDIC_ID = "C" + "".join(chr(0x0660 + int(digit)) for digit in "12345678")
FORGED = "FORGED"
"""Marker that hostile field names and values try to put at the start of a log line."""

# Raw JSON texts (so that lone surrogates travel as the \ud800 escapes a client can send).
RECORD = json.dumps(VALID)[1:-1]
HOSTILE_BODIES: list[tuple[str, bytes]] = [
    ("surrogate field name", b'{"\\ud800": 1, ' + RECORD.encode() + b"}"),
    ("low surrogate field name", b'{"\\udfff\\ud800x": 1, ' + RECORD.encode() + b"}"),
    ("surrogate value", json.dumps({**VALID, "contract": "X"}).replace('"X"', '"\\ud800"').encode()),
    ("surrogate id", json.dumps({**VALID, "customer_id": "X"}).replace('"X"', '"C1234567\\udc00"').encode()),
    ("surrogate next to records", b'{"records": [' + json.dumps(VALID).encode() + b'], "\\ud800": 1}'),
    ("surrogate body", b'"\\ud800"'),
    ("surrogate records", b'{"records": "\\ud800"}'),
    ("surrogate in a nested value", json.dumps({**VALID, "contract": {"X": 1}}).replace('"X"', '"\\ud800"').encode()),
    ("newline in field name", json.dumps({**VALID, f"x\nERROR slipway: {FORGED} line": 1}).encode()),
    ("CRLF in field name", json.dumps({**VALID, f"x\r\n{FORGED}": 1}).encode()),
    ("line separator in field name", json.dumps({**VALID, f"x\u2028{FORGED}": 1}).encode()),
    (
        "surrogate and newline names together",
        b'{"\\ud800": 1, "x\\nERROR slipway.serving.app: ' + FORGED.encode() + b'": 2, ' + RECORD.encode() + b"}",
    ),
    ("control characters in a value", json.dumps({**VALID, "contract": f"\x1b[31m\x00\x07\r\n{FORGED}"}).encode()),
    ("bidi override in a value", json.dumps({**VALID, "contract": "\u202eraey-eno"}).encode()),
    ("newline after a valid id", json.dumps({**VALID, "customer_id": "C12345678\n"}).encode()),
    ("Arabic-Indic digits in the id", json.dumps({**VALID, "customer_id": ARABIC_INDIC_ID}).encode()),
    ("huge field name", json.dumps({**VALID, "n" * 1_000_000: 1}).encode()),
    ("huge value", json.dumps({**VALID, "contract": "v" * 1_000_000}).encode()),
    ("many unknown fields", json.dumps({**VALID, **{f"f{i}\n{FORGED}": i for i in range(5000)}}).encode()),
    ("huge number", json.dumps({**VALID, "age": 0}).replace('"age": 0', '"age": ' + "9" * 4000).encode()),
    ("deep nesting", b"[" * 100_000 + b"]" * 100_000),
    ("invalid UTF-8", b'{"contract": "\xff\xfe\xc3"}'),
    ("records of surrogates", b'{"records": [{"\\ud800": "\\udbff"}, {"x\\n' + FORGED.encode() + b'": 1}]}'),
]


def _request(port: int, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.request(method, path, body, {"Content-Type": "application/json"} if body is not None else {})
    response = connection.getresponse()
    return response.status, response.read()


@pytest.fixture(scope="module")
def server(model_dir: Path):
    """A server with the default body limit, shared by the tests that do not read its logs; yields its port."""
    port = free_port()
    process = start_server(model_dir, port)
    try:
        wait_ready(port)
        yield port
    finally:
        stop_server(process)


def _assert_bounded_and_escaped(text: str) -> None:
    assert text.isprintable(), repr(text[:300])  # no line breaks, control or format characters, no surrogates
    text.encode("utf-8")
    assert len(text) <= ECHO_LIMIT + len("... (1,000,000 characters)"), len(text)


def forged_lines(log: str) -> list[str]:
    """Lines (as a log reader splits them) that start with the marker, bare or behind a log record's prefix."""
    return [line for line in re.split(r"\r\n|\r|\n", log) if re.match(rf"(?:ERROR slipway[\w.]*: )?{FORGED}", line)]


@pytest.mark.slow
def test_hostile_requests_get_4xx_with_a_bounded_escaped_echo_and_forge_no_log_line(model_dir, tmp_path) -> None:
    port, server_log = free_port(), tmp_path / "server.log"
    predictions = str(tmp_path / "predictions")
    process = start_server(
        model_dir, port, args=("--access-log",), log_file=server_log, SLIPWAY_PREDICTION_LOG=predictions
    )
    try:
        wait_ready(port)
        statuses = {}
        for name, body in HOSTILE_BODIES:
            status, raw = _request(port, "POST", "/predict", body)
            statuses[name] = status
            answer = json.loads(raw)  # valid UTF-8 JSON whatever was sent
            assert len(raw) < 64 * 1024, (name, len(raw))
            for error in answer.get("errors", []):
                _assert_bounded_and_escaped(error["field"])
                _assert_bounded_and_escaped(error["reason"])
                if isinstance(error["value"], str):
                    _assert_bounded_and_escaped(error["value"])
        for path in (f"/predict%0AERROR%20slipway:%20{FORGED}", f"/%E2%80%A8{FORGED}", f"/x%00%0D%0A{FORGED}"):
            statuses[path] = _request(port, "GET", path)[0]
        ok, answer = _request(port, "POST", "/predict", json.dumps({"records": [VALID, VALID]}).encode())
        metrics = _request(port, "GET", "/metrics")[1].decode()
    finally:
        stop_server(process)
    print(f"{len(statuses)} hostile requests: {sorted(Counter(statuses.values()).items())}")
    assert all(400 <= status < 500 for status in statuses.values()), statuses
    assert [statuses[name] for name, _ in HOSTILE_BODIES] == [422] * len(HOSTILE_BODIES), statuses
    assert ok == 200, answer
    assert not re.findall(r'status="5\d\d"', metrics), "a request got a 5xx"
    log = server_log.read_text(encoding="utf-8", errors="backslashreplace")
    assert f"{FORGED} HTTP/1.1" in log  # the access log did show the hostile paths (escaped)
    assert not forged_lines(log) and "Traceback" not in log, log[-5000:]
    predictions = (tmp_path / "predictions").glob("*.jsonl")
    logged = [json.loads(line) for path in predictions for line in path.read_text(encoding="utf-8").split("\n") if line]
    assert [entry["inputs"] for entry in logged] == [VALID, VALID]  # refused requests are not logged


def test_the_forged_line_check_sees_a_forged_line() -> None:
    assert forged_lines(f"INFO ok\nERROR slipway.serving.app: {FORGED}: unknown field\r{FORGED}") == [
        f"ERROR slipway.serving.app: {FORGED}: unknown field", FORGED,
    ]  # fmt: skip
    assert not forged_lines(f'INFO x\\nERROR slipway: {FORGED}\nINFO: "GET /%0A{FORGED} HTTP/1.1" 404')


@pytest.mark.slow
def test_a_body_over_the_limit_gets_413_naming_the_limit_with_or_without_content_length(server) -> None:
    port = server
    declared = _send_big(port, 100 * MB, chunked=False)
    streamed = _send_big(port, 100 * MB, chunked=True)
    for status, body in (declared, streamed):
        assert status == 413, (status, body)
        assert f"limit of {DEFAULT_MAX_BODY_BYTES:,} bytes" in json.loads(body)["detail"]
        assert "SLIPWAY_MAX_BODY_BYTES" in json.loads(body)["detail"]
    below = json.dumps({"records": [VALID] * 10_000}).encode()
    assert len(below) < DEFAULT_MAX_BODY_BYTES and _request(port, "POST", "/predict", below)[0] == 200


def _send_big(port: int, size: int, chunked: bool, chunk: int = MB) -> tuple[int, bytes]:
    """POST ``size`` bytes of JSON whitespace to /predict (declared with Content-Length, or chunked) until the server
    answers; returns its status and body."""
    with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
        framing = b"Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}".encode()
        sock.sendall(b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" + framing)
        sock.sendall(b"\r\n\r\n")
        piece = b" " * chunk
        sent = 0
        try:
            while sent < size:
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
                sent += len(piece)
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server answered and closed: read what it said
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, response.read()


@pytest.mark.slow
def test_four_concurrent_100_mb_bodies_leave_memory_bounded(model_dir: Path) -> None:
    port = free_port()
    process = start_server(model_dir, port)
    try:
        wait_ready(port)
        before = memory_kib(process.pid, "VmHWM")
        answers: list[tuple[int, bytes]] = []
        senders = [
            threading.Thread(target=lambda c=chunked: answers.append(_send_big(port, 100 * MB, c)))
            for chunked in (False, True, False, True)
        ]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()
        peak = memory_kib(process.pid, "VmHWM")
    finally:
        stop_server(process)
    print(f"server peak RSS: {before / 1024:.0f} MiB before, {peak / 1024:.0f} MiB after 4 x 100 MB bodies")
    assert [status for status, _ in answers] == [413] * 4
    assert peak - before < 64 * 1024, (before, peak)  # KiB: at most 4 bodies of 4 MiB held, plus buffers


@pytest.mark.slow
def test_concurrent_batches_at_the_body_limit_are_answered_one_at_a_time(model_dir: Path) -> None:
    rows = DEFAULT_MAX_BODY_BYTES // (len(json.dumps(VALID)) + 2) - 10
    body = json.dumps({"records": [VALID] * rows}).encode()
    assert len(body) <= DEFAULT_MAX_BODY_BYTES
    port = free_port()
    process = start_server(model_dir, port)
    try:
        wait_ready(port)
        before = memory_kib(process.pid, "VmHWM")
        statuses: list[int] = []
        post = lambda: statuses.append(_request(port, "POST", "/predict", body)[0])  # noqa: E731
        clients = [threading.Thread(target=post) for _ in range(4)]
        for client in clients:
            client.start()
        for client in clients:
            client.join()
        peak = memory_kib(process.pid, "VmHWM")
    finally:
        stop_server(process)
    print(f"4 x {rows:,}-row batches at once: peak RSS {before / 1024:.0f} MiB before, {peak / 1024:.0f} MiB after")
    assert statuses == [200] * 4
    assert peak - before < 160 * 1024, (before, peak)  # KiB; all four in memory at once took about 235 MiB more


def _label_values(metrics: str, name: str, label: str) -> set[str]:
    lines = [line for line in metrics.splitlines() if line.startswith(f"{name}{{")]
    return {found.group(1) for line in lines if (found := re.search(rf'{label}="([^"]*)"', line))}


@pytest.mark.slow
def test_invented_methods_paths_and_fields_do_not_grow_the_metric_series(server) -> None:
    port = server
    webdav = ["PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "REPORT", "SEARCH"]
    for method in [f"X{i}METHOD" for i in range(300)] + webdav:  # the HTTP parser refuses the invented ones (400)
        status, _ = _request(port, method, "/predict")
        assert 400 <= status < 500, (method, status)
    for i in range(100):
        assert _request(port, "GET", f"/scan/{i}")[0] == 404
        assert _request(port, "POST", "/predict", json.dumps({**VALID, f"field{i}": 1}).encode())[0] == 422
    metrics = _request(port, "GET", "/metrics")[1].decode()
    requests = "slipway_http_requests_total"
    methods = _label_values(metrics, requests, "method")
    assert methods <= {"GET", "POST", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH", "other"} and "other" in methods
    assert _label_values(metrics, requests, "endpoint") <= {*ENDPOINTS, "other"}
    assert _label_values(metrics, "slipway_invalid_requests_total", "field") <= {*VALID, "(other)"}
    series = [line for line in metrics.splitlines() if line.startswith("slipway_") and "{" in line]
    print(f"{len(series)} labelled series after 500 requests with invented methods, paths and fields")
    assert len(series) < 120, series


@pytest.mark.slow
def test_health_answers_while_a_100k_row_batch_is_processed(model_dir: Path) -> None:
    body = json.dumps({"records": [VALID] * 100_000}).encode()
    port = free_port()
    process = start_server(model_dir, port, SLIPWAY_MAX_BODY_BYTES=str(64 * MB))
    batch: dict[str, object] = {}

    def post_batch() -> None:  # parsing the answer waits for the probes: it would hold this process's GIL
        started = time.perf_counter()
        batch["status"], batch["answer"] = _request(port, "POST", "/predict", body)
        batch["seconds"] = time.perf_counter() - started

    try:
        wait_ready(port)
        poster = threading.Thread(target=post_batch)
        poster.start()
        latencies = []
        while poster.is_alive():
            started = time.perf_counter()
            assert _request(port, "GET", "/health")[0] == 200
            latencies.append(time.perf_counter() - started)
            time.sleep(0.02)
        poster.join()
    finally:
        stop_server(process)
    worst = max(latencies)
    answer = batch.pop("answer")
    assert isinstance(answer, bytes)
    print(f"100k-row batch: {batch}; /health: {len(latencies)} probes, worst {worst:.3f} s")
    assert batch["status"] == 200 and len(json.loads(answer)["predictions"]) == 100_000
    assert len(latencies) >= 10
    # On an idle machine the worst wait is well under 0.5 s; a loaded one stretches everything, the batch too.
    seconds = batch["seconds"]
    assert isinstance(seconds, float) and worst < max(0.5, 0.05 * seconds), (worst, batch)
