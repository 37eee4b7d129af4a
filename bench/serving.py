"""Serving benchmark: ONNX vs scikit-learn, measured in the same run, over HTTP on loopback with one uvicorn worker.

    python bench/serving.py [--model-dir outputs/model] [--requests 2000] [--rounds 3] [--clients 1 4]

Reports, per backend: single-record POST /predict requests/s and p50/p99 latency (closed loop, keep-alive, per
number of concurrent clients), rows/s for a 10,000-row batch (over HTTP, and in-process without HTTP/JSON), and
the model load time. Both servers run at once and the rounds alternate between them, so a busy machine slows
both alike. Results go to bench/results/serving.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from slipway.data.generator import EXAMPLE_RECORD

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(model_dir: Path, backend: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    command = [str(BIN / "slipway"), "serve", "--model-dir", str(model_dir), "--port", str(port), "--backend", backend]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/ready")
            if connection.getresponse().status == 200:
                return process, port
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{backend} server did not become ready")


def closed_loop(args: tuple[int, int, bytes]) -> list[float]:
    """One client: ``n`` sequential requests on one keep-alive connection; returns latencies in seconds."""
    port, n, body = args
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"}
    latencies = []
    for _ in range(n):
        started = time.perf_counter()
        connection.request("POST", "/predict", body, headers)
        response = connection.getresponse()
        response.read()
        latencies.append(time.perf_counter() - started)
        if response.status != 200:
            raise RuntimeError(f"status {response.status}")
    connection.close()
    return latencies


def load(pool: Any, port: int, clients: int, requests: int, body: bytes) -> tuple[float, list[float]]:
    per_client = max(1, requests // clients)
    started = time.perf_counter()
    results = pool.map(closed_loop, [(port, per_client, body)] * clients)
    elapsed = time.perf_counter() - started
    return elapsed, [x for r in results for x in r]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def batch_over_http(port: int, body: bytes, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        started = time.perf_counter()
        connection.request("POST", "/predict", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        times.append(time.perf_counter() - started)
        assert response.status == 200, response.status
    return statistics.median(times)


def in_process(model_dir: Path, records: list[dict], repeats: int) -> dict[str, Any]:
    """Model load time and in-process batch rows/s (validation + prediction, no HTTP/JSON) per backend."""
    from slipway.serving.model import load_served_model

    out: dict[str, Any] = {}
    for backend in ("onnx", "sklearn"):
        loads = []
        for _ in range(repeats):
            started = time.perf_counter()
            model = load_served_model(model_dir, backend)  # type: ignore[arg-type]
            loads.append(time.perf_counter() - started)
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            model.predict(model.validator.validate(records))
            times.append(time.perf_counter() - started)
        single = []
        for _ in range(200):
            batch = model.validator.validate([EXAMPLE_RECORD])
            started = time.perf_counter()
            model.predict(batch)
            single.append(time.perf_counter() - started)
        out[backend] = {
            "load_seconds_median": statistics.median(loads),
            "batch_rows_per_s_in_process": len(records) / statistics.median(times),
            "single_predict_us_median": statistics.median(single) * 1e6,
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", type=Path, default=ROOT / "outputs/model")
    parser.add_argument("--requests", type=int, default=2000, help="single-record requests per backend per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--batch-rows", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/serving.json")
    args = parser.parse_args()
    if not (args.model_dir / "model.onnx").exists():
        sys.exit(f"{args.model_dir}/model.onnx not found: run `make repro` first (the train stage exports it)")

    sys.path.insert(0, str(ROOT / "src"))
    from slipway.data.generator import ChurnSettings, generate_churn

    table = generate_churn(ChurnSettings(rows=args.batch_rows, seed=123)).drop(columns=["churned"])
    records = json.loads(table.to_json(orient="records"))
    batch_body = json.dumps({"records": records}).encode()
    single_body = json.dumps(EXAMPLE_RECORD).encode()

    servers = {backend: start_server(args.model_dir, backend) for backend in ("onnx", "sklearn")}
    results: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "load_avg_start": os.getloadavg()}}
    try:
        with mp.get_context("spawn").Pool(max(args.clients)) as pool:
            for _, port in servers.values():  # warm-up
                load(pool, port, 1, 200, single_body)
            latencies = {(b, c): [] for b in servers for c in args.clients}
            elapsed = {(b, c): 0.0 for b in servers for c in args.clients}
            for _ in range(args.rounds):
                for clients in args.clients:
                    for backend, (_, port) in servers.items():
                        seconds, values = load(pool, port, clients, args.requests, single_body)
                        latencies[(backend, clients)] += values
                        elapsed[(backend, clients)] += seconds
        for backend, (_, port) in servers.items():
            entry: dict[str, Any] = {}
            for clients in args.clients:
                values = latencies[(backend, clients)]
                entry[f"clients_{clients}"] = {
                    "requests": len(values),
                    "requests_per_s": len(values) / elapsed[(backend, clients)],
                    "p50_ms": percentile(values, 0.50) * 1e3,
                    "p99_ms": percentile(values, 0.99) * 1e3,
                }
            seconds = batch_over_http(port, batch_body, repeats=3)
            entry["batch_http"] = {"rows": len(records), "seconds": seconds, "rows_per_s": len(records) / seconds}
            results[backend] = entry
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait(timeout=30)
    for backend, numbers in in_process(args.model_dir, records, repeats=3).items():
        results[backend].update(numbers)
    results["machine"]["load_avg_end"] = os.getloadavg()

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print("| backend | clients | req/s | p50 ms | p99 ms |\n|---|---|---|---|---|")
    for backend in ("onnx", "sklearn"):
        for clients in args.clients:
            row = results[backend][f"clients_{clients}"]
            print(
                f"| {backend} | {clients} | {row['requests_per_s']:.0f} | {row['p50_ms']:.2f} | {row['p99_ms']:.2f} |"
            )
    print("\n| backend | 10k batch over HTTP rows/s | 10k batch in-process rows/s | single predict µs | load s |")
    print("|---|---|---|---|---|")
    for backend in ("onnx", "sklearn"):
        r = results[backend]
        print(
            f"| {backend} | {r['batch_http']['rows_per_s']:,.0f} | {r['batch_rows_per_s_in_process']:,.0f} "
            f"| {r['single_predict_us_median']:.0f} | {r['load_seconds_median']:.3f} |"
        )
    print(f"\nmachine: {results['machine']}  ->  {args.out}")


if __name__ == "__main__":
    main()
