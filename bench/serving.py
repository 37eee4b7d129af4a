"""Serving benchmark: Slipway's API against `mlflow models serve` on the same trained pipeline, in the same run.

    python bench/serving.py [--model-dir outputs/model] [--requests 2000] [--rounds 3] [--clients 1]

Servers, all on loopback with one worker, all running at once (rounds alternate between them, so a busy machine
slows all alike):
- Slipway (`slipway serve`), ONNX backend (the default when the export exists), the same with the prediction log on
  (as production serves: the log's folder is a temporary one, removed at the end) and scikit-learn backend;
- the anchor: `mlflow models serve --env-manager local -w 1` on the same fitted pipeline (model.skops loaded with
  skops and its exact trusted types, saved with ``mlflow.sklearn.save_model`` in skops format, predicting
  probabilities). MLflow lives in its own environment, bench/.mlflow-venv (gitignored, created with uv on first use,
  scikit-learn/skops/pandas/numpy pinned to this environment's versions); it never enters the project's lock;
- uvicorn serving an ASGI app that answers a fixed body, with `slipway serve`'s server options (uvloop, httptools):
  the server's own floor, what any app on it costs at least;
- a trivial asyncio HTTP server answering a fixed body: what the client itself can do (its ceiling).

Measured with one client (keep-alive ``http.client`` connection, bodies encoded once): single-record requests/s and
p50/p99 latency; rows/s for a 10,000-row batch over HTTP (MLflow gets its ``dataframe_split`` format, its most
compact); and, in-process, model load time and batch rows/s per Slipway backend. Both servers must return the same
probability for the same record (checked and reported). Headline: Slipway ÷ MLflow requests/s, and both p99s.
If MLflow cannot be installed, the reason is printed and the ONNX ÷ scikit-learn ratio stands alone.
Results go to bench/results/serving.json.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import importlib.metadata
import json
import multiprocessing as mp
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import skops.io as sio
from benchlib import ROOT, load_average, machine, markdown_table, percentile, write_results

from slipway.artifact.persistence import untrusted_types

# Slipway imports, one block: the demo record and generator, the trusted-types check, the in-process model.
from slipway.data.generator import EXAMPLE_RECORD, ChurnSettings, generate_churn
from slipway.serving.model import load_served_model

BIN = Path(sys.executable).parent
MLFLOW_ENV = ROOT / "bench" / ".mlflow-venv"
MLFLOW_SPEC = "mlflow-skinny==3.17.2"
PINNED = ("scikit-learn", "skops", "pandas", "numpy", "scipy")  # the model must load exactly as it was fitted

SAVE_FOR_MLFLOW = """
import json, sys
import mlflow.sklearn, skops.io as sio
path, out, trusted = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
model = sio.load(path, trusted=trusted)
mlflow.sklearn.save_model(
    model, out, serialization_format="skops", skops_trusted_types=trusted, pyfunc_predict_fn="predict_proba"
)
"""

TRIVIAL_SERVER = """
import asyncio, sys
BODY = b'{"predictions": [[0.5, 0.5]]}'
HEAD = b"HTTP/1.1 200 OK\\r\\ncontent-type: application/json\\r\\ncontent-length: %d\\r\\n\\r\\n"
ANSWER = HEAD % len(BODY) + BODY
async def handle(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\\r\\n\\r\\n")
            length = 0
            for line in head.split(b"\\r\\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            writer.write(ANSWER)
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", int(sys.argv[1]))
    async with server:
        await server.serve_forever()
asyncio.run(main())
"""


SERVER_FLOOR = """
import sys
import uvicorn
from slipway.cli.serving import server_options
BODY = b'{"predictions": [[0.5, 0.5]]}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), workers=1, access_log=False, log_level="warning",
            **server_options())
"""
FLOORS = ("uvicorn, empty app (server floor)", "trivial (client ceiling)")
"""The servers that answer a fixed body: baselines, not models."""


@dataclass
class Server:
    """A running server and how to talk to it."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    path: str
    single: bytes
    batch: bytes
    columnar: bytes | None = None  # the same batch as {"columns": {...}}, for a server that takes it

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # its own session: MLflow's uvicorn child goes too
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(process: subprocess.Popen[bytes], port: int, path: str, what: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode} before becoming ready")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    raise RuntimeError(f"{what} did not become ready in {timeout:.0f} s")


def start(command: list[str], ready_path: str, what: str, port: int, env: dict[str, str] | None = None):
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    wait_ready(process, port, ready_path, what)
    return process


# --- the MLflow anchor --------------------------------------------------------------------------------------------


def uv_command() -> list[str]:
    """uv on PATH, else the uv package's binary if this environment has it; else say how to get it."""
    found = shutil.which("uv")
    if found:
        return [found]
    try:
        import uv  # type: ignore[import-not-found]

        return [uv.find_uv_bin()]
    except (ImportError, FileNotFoundError):
        raise RuntimeError("uv not found (python3 -m pip install uv), needed to create bench/.mlflow-venv") from None


def mlflow_env() -> Path:
    """bench/.mlflow-venv with MLflow and this environment's model libraries (created once, re-created when the
    pins change); returns its python."""
    spec = [MLFLOW_SPEC, *(f"{name}=={importlib.metadata.version(name)}" for name in PINNED)]
    python = MLFLOW_ENV / "bin" / "python"
    marker = MLFLOW_ENV / "bench-spec.json"
    if python.exists() and marker.exists() and json.loads(marker.read_text()) == spec:
        return python
    print(f"creating {MLFLOW_ENV.relative_to(ROOT)}: {' '.join(spec)}", flush=True)
    shutil.rmtree(MLFLOW_ENV, ignore_errors=True)
    for command in (
        [*uv_command(), "venv", "--quiet", "--python", sys.executable, str(MLFLOW_ENV)],
        [*uv_command(), "pip", "install", "--quiet", "--python", str(python), *spec],  # explicit target env
    ):
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command[:4])} ... failed: {(result.stderr or result.stdout).strip()[-800:]}")
    marker.write_text(json.dumps(spec))
    return python


def mlflow_model(python: Path, model_dir: Path) -> Path:
    """The served pipeline saved as an MLflow model (cached by the skops file's hash)."""
    skops_file = model_dir / "model.skops"
    refused = untrusted_types(skops_file)
    if refused:
        raise RuntimeError(f"{skops_file}: refusing to load untrusted types {refused}")
    trusted = sio.get_untrusted_types(file=skops_file)
    digest = hashlib.sha256(skops_file.read_bytes()).hexdigest()[:16]
    out = MLFLOW_ENV / "models" / digest
    if not (out / "MLmodel").exists():
        staging = out.with_name(digest + ".tmp")
        shutil.rmtree(staging, ignore_errors=True)
        staging.parent.mkdir(parents=True, exist_ok=True)
        command = [str(python), "-c", SAVE_FOR_MLFLOW, str(skops_file), str(staging), json.dumps(trusted)]
        result = subprocess.run(command, capture_output=True, text=True, env=mlflow_process_env())
        if result.returncode != 0:
            raise RuntimeError(f"saving the MLflow model failed: {result.stderr.strip()[-800:]}")
        staging.rename(out)
    return out


def mlflow_process_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    env["PATH"] = f"{MLFLOW_ENV / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    return env


# --- load generation ----------------------------------------------------------------------------------------------


def closed_loop(args: tuple[int, str, int, bytes]) -> list[float]:
    """One client: ``n`` sequential POSTs on one keep-alive connection; latencies in seconds."""
    port, path, n, body = args
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/json"}
    latencies = []
    clock = time.perf_counter
    for _ in range(n):
        started = clock()
        connection.request("POST", path, body, headers)
        response = connection.getresponse()
        response.read()
        latencies.append(clock() - started)
        if response.status != 200:
            raise RuntimeError(f"{path} on port {port}: status {response.status}")
    connection.close()
    return latencies


def load(pool: Any, server: Server, clients: int, requests: int) -> tuple[float, list[float]]:
    per_client = max(1, requests // clients)
    started = time.perf_counter()
    if clients == 1:
        results = [closed_loop((server.port, server.path, per_client, server.single))]
    else:
        results = pool.map(closed_loop, [(server.port, server.path, per_client, server.single)] * clients)
    elapsed = time.perf_counter() - started
    return elapsed, [x for r in results for x in r]


def post(server: Server, body: bytes) -> tuple[float, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=300)
    started = time.perf_counter()
    connection.request("POST", server.path, body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    data = response.read()
    seconds = time.perf_counter() - started
    if response.status != 200:
        raise RuntimeError(f"{server.name}: status {response.status}: {data[:300]!r}")
    return seconds, json.loads(data)


def probabilities(name: str, answer: Any) -> list[float]:
    """The positive-class probability of each record in a server's answer."""
    if name.startswith("slipway"):
        return [p["probability"] for p in answer["predictions"]]
    return [p[1] for p in answer["predictions"]]


def in_process(model_dir: Path, records: list[dict], repeats: int) -> dict[str, Any]:
    """Model load time and in-process batch rows/s (validation + prediction, no HTTP/JSON) per Slipway backend."""
    out: dict[str, Any] = {}
    for backend in ("onnx", "sklearn"):
        loads = []
        for _ in range(repeats):
            started = time.perf_counter()
            model = load_served_model(model_dir, backend)
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
        out[f"slipway-{backend}"] = {
            "load_seconds_median": statistics.median(loads),
            "batch_rows_per_s_in_process": len(records) / statistics.median(times),
            "single_predict_us_median": statistics.median(single) * 1e6,
        }
    return out


LOG_DIR = Path(tempfile.gettempdir()) / f"slipway-bench-prediction-log-{os.getpid()}"
SLIPWAY_SERVERS = {
    "slipway-onnx": ["--backend", "onnx"],
    "slipway-onnx + log": ["--backend", "onnx", "--prediction-log", str(LOG_DIR)],  # as served in production
    "slipway-sklearn": ["--backend", "sklearn"],
}


def start_servers(model_dir: Path, records: list[dict], notes: dict[str, Any]) -> list[Server]:
    single = json.dumps(EXAMPLE_RECORD).encode()
    batch = json.dumps({"records": records}).encode()
    columnar = json.dumps({"columns": {name: [r[name] for r in records] for name in records[0]}}).encode()
    servers = []
    for name, options in SLIPWAY_SERVERS.items():
        port = free_port()
        command = [str(BIN / "slipway"), "serve", "--model-dir", str(model_dir), "--port", str(port), *options]
        process = start(command, "/ready", f"slipway serve {' '.join(options)}", port)
        servers.append(Server(name, process, port, "/predict", single, batch, columnar))
    try:
        python = mlflow_env()
        mlflow_dir = mlflow_model(python, model_dir)
        port = free_port()
        command = [str(MLFLOW_ENV / "bin" / "mlflow"), "models", "serve", "-m", str(mlflow_dir), "--env-manager"]
        command += ["local", "-h", "127.0.0.1", "-p", str(port), "-w", "1"]
        process = start(command, "/ping", "mlflow models serve", port, env=mlflow_process_env())
        columns = list(EXAMPLE_RECORD)

        def split_body(rows: list[dict]) -> str:
            return json.dumps(
                {"dataframe_split": {"columns": columns, "data": [[r[c] for c in columns] for r in rows]}}
            )

        servers.append(
            Server(
                "mlflow",
                process,
                port,
                "/invocations",
                split_body([EXAMPLE_RECORD]).encode(),
                split_body(records).encode(),
            )
        )
        version = subprocess.run([str(python), "-c", "import mlflow; print(mlflow.__version__)"], capture_output=True)
        notes["mlflow_version"] = version.stdout.decode().strip()
    except (RuntimeError, OSError) as error:
        notes["mlflow_unavailable"] = str(error)
        print(f"MLflow anchor unavailable: {error}\nfalling back to ONNX vs scikit-learn only", flush=True)
    for name, script in zip(FLOORS, (SERVER_FLOOR, TRIVIAL_SERVER), strict=True):
        port = free_port()
        process = start([sys.executable, "-c", script, str(port)], "/", name, port)
        servers.append(Server(name, process, port, "/", single, batch))
    return servers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", type=Path, default=ROOT / "outputs/model")
    parser.add_argument("--requests", type=int, default=2000, help="single-record requests per server per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, nargs="+", default=[1])
    parser.add_argument("--batch-rows", type=int, default=10_000)
    parser.add_argument("--batch-repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    model_dir = args.model_dir.resolve()
    if not (model_dir / "model.onnx").exists():
        sys.exit(f"{model_dir}/model.onnx not found: run `make repro` first (the train stage exports it)")

    table = generate_churn(ChurnSettings(rows=args.batch_rows, seed=123)).drop(columns=["churned"])
    records = json.loads(table[list(EXAMPLE_RECORD)].to_json(orient="records"))
    results: dict[str, Any] = {"machine": machine(), "notes": {}}
    servers = start_servers(model_dir, records, results["notes"])
    names = [s.name for s in servers]
    latencies: dict[tuple[str, int], list[float]] = {(n, c): [] for n in names for c in args.clients}
    elapsed: dict[tuple[str, int], float] = dict.fromkeys(latencies, 0.0)
    batch_times: dict[str, list[float]] = {n: [] for n in names}
    columnar_times: dict[str, list[float]] = {s.name: [] for s in servers if s.columnar}
    try:
        agreement = {s.name: probabilities(s.name, post(s, s.single)[1])[0] for s in servers if s.name not in FLOORS}
        results["notes"]["probability_of_the_example_record"] = agreement
        with mp.get_context("spawn").Pool(max(args.clients)) as pool:
            for server in servers:  # warm-up
                load(pool, server, 1, 200)
            for _ in range(args.rounds):
                for clients in args.clients:
                    for server in servers:
                        seconds, values = load(pool, server, clients, args.requests)
                        latencies[(server.name, clients)] += values
                        elapsed[(server.name, clients)] += seconds
            results["load_avg_after_single_records"] = load_average()
            answers = {}
            for _ in range(args.batch_repeats):
                for server in servers:
                    seconds, answers[server.name] = post(server, server.batch)
                    batch_times[server.name].append(seconds)
                    if server.columnar:
                        seconds, answer = post(server, server.columnar)
                        columnar_times[server.name].append(seconds)
                        if answer["predictions"] != answers[server.name]["predictions"]:
                            sys.exit(f"{server.name}: the columnar batch was answered unlike its records")
        reference = probabilities("slipway-sklearn", answers["slipway-sklearn"])
        results["notes"]["batch_max_abs_difference_vs_slipway_sklearn"] = {
            name: max(abs(a - b) for a, b in zip(probabilities(name, answer), reference, strict=True))
            for name, answer in answers.items()
            if name not in FLOORS
        }
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(LOG_DIR, ignore_errors=True)
    for name in names:
        entry: dict[str, Any] = {}
        for clients in args.clients:
            values = latencies[(name, clients)]
            entry[f"clients_{clients}"] = {
                "requests": len(values),
                "requests_per_s": len(values) / elapsed[(name, clients)],
                "p50_ms": percentile(values, 0.50) * 1e3,
                "p99_ms": percentile(values, 0.99) * 1e3,
            }
        seconds = statistics.median(batch_times[name])
        entry["batch_http"] = {"rows": len(records), "seconds": seconds, "rows_per_s": len(records) / seconds}
        if columnar_times.get(name):
            seconds = statistics.median(columnar_times[name])
            entry["batch_http_columnar"] = {
                "rows": len(records),
                "seconds": seconds,
                "rows_per_s": len(records) / seconds,
            }
        results[name] = entry
    for name, numbers in in_process(model_dir, records, repeats=3).items():
        results[name].update(numbers)
    results["ratios"] = ratios(results, args.clients[0])
    results["machine"]["load_avg_end"] = load_average()
    path = write_results("serving", results, args.out)
    report(results, names, args.clients, path)


def ratios(results: dict[str, Any], clients: int) -> dict[str, float]:
    def rps(name: str) -> float:
        return results[name][f"clients_{clients}"]["requests_per_s"]

    def p99(name: str) -> float:
        return results[name][f"clients_{clients}"]["p99_ms"]

    def batch(name: str) -> float:
        return results[name]["batch_http"]["rows_per_s"]

    def columnar(name: str) -> float:
        return results[name]["batch_http_columnar"]["rows_per_s"]

    out = {
        "onnx_over_sklearn_req_per_s": rps("slipway-onnx") / rps("slipway-sklearn"),
        "onnx_over_sklearn_batch_rows_per_s": batch("slipway-onnx") / batch("slipway-sklearn"),
        "slipway_onnx_over_client_ceiling_req_per_s": rps("slipway-onnx") / rps(FLOORS[1]),
        "slipway_onnx_over_server_floor_req_per_s": rps("slipway-onnx") / rps(FLOORS[0]),
    }
    if "mlflow" in results:
        out |= {
            "slipway_onnx_over_mlflow_req_per_s": rps("slipway-onnx") / rps("mlflow"),
            "slipway_sklearn_over_mlflow_req_per_s": rps("slipway-sklearn") / rps("mlflow"),
            "mlflow_p99_over_slipway_onnx_p99": p99("mlflow") / p99("slipway-onnx"),
            "slipway_onnx_over_mlflow_batch_rows_per_s": batch("slipway-onnx") / batch("mlflow"),
            "slipway_onnx_columnar_over_mlflow_batch_rows_per_s": columnar("slipway-onnx") / batch("mlflow"),
            "slipway_onnx_logged_over_mlflow_req_per_s": rps("slipway-onnx + log") / rps("mlflow"),
            "server_floor_over_mlflow_req_per_s": rps(FLOORS[0]) / rps("mlflow"),
        }
    return {k: round(v, 2) for k, v in out.items()}


def report(results: dict[str, Any], names: list[str], clients: list[int], path: Path) -> None:
    r = results["ratios"]
    print(f"machine: {results['machine']}\n")
    if "slipway_onnx_over_mlflow_req_per_s" in r:
        print(
            f"Slipway (ONNX) ÷ mlflow models serve, single record, 1 keep-alive client: "
            f"{r['slipway_onnx_over_mlflow_req_per_s']:.1f}x req/s "
            f"(p99 {results['slipway-onnx'][f'clients_{clients[0]}']['p99_ms']:.2f} ms vs "
            f"{results['mlflow'][f'clients_{clients[0]}']['p99_ms']:.2f} ms); scikit-learn backend "
            f"{r['slipway_sklearn_over_mlflow_req_per_s']:.1f}x; 10k-row batch "
            f"{r['slipway_onnx_over_mlflow_batch_rows_per_s']:.1f}x rows/s "
            f'({r["slipway_onnx_columnar_over_mlflow_batch_rows_per_s"]:.1f}x as {{"columns": ...}}); with the '
            f"prediction log on {r['slipway_onnx_logged_over_mlflow_req_per_s']:.1f}x req/s"
        )
    else:
        print(f"MLflow anchor unavailable: {results['notes'].get('mlflow_unavailable')}")
    print(
        f"ONNX ÷ scikit-learn (Slipway): {r['onnx_over_sklearn_req_per_s']:.2f}x req/s, "
        f"{r['onnx_over_sklearn_batch_rows_per_s']:.2f}x batch rows/s"
    )
    print(
        f"client ceiling: Slipway (ONNX) reaches {r['slipway_onnx_over_client_ceiling_req_per_s']:.0%} of what the "
        f"client does against a trivial server; server floor: "
        f"{r['slipway_onnx_over_server_floor_req_per_s']:.0%} of what uvicorn answers with an app that does nothing"
        + (f" (that app ÷ MLflow: {r['server_floor_over_mlflow_req_per_s']:.1f}x)" if "mlflow" in results else "")
        + "\n"
    )
    rows: list[tuple[Any, ...]] = []
    for name in names:
        for c in clients:
            row = results[name][f"clients_{c}"]
            batch = results[name]["batch_http"]["rows_per_s"]
            columnar = results[name].get("batch_http_columnar", {}).get("rows_per_s", "-")
            rows.append((name, c, row["requests_per_s"], row["p50_ms"], row["p99_ms"], batch, columnar))
    headers = ["server", "clients", "req/s", "p50 ms", "p99 ms", "10k batch rows/s over HTTP", "as columns"]
    print(markdown_table(headers, rows))
    print()
    rows = [
        (
            name,
            results[name]["batch_rows_per_s_in_process"],
            results[name]["single_predict_us_median"],
            results[name]["load_seconds_median"],
        )
        for name in names
        if "batch_rows_per_s_in_process" in results[name]
    ]
    print(markdown_table(["in-process", "10k batch rows/s", "single predict µs", "load s"], rows))
    print(
        "\nsame model: probability of the example record per server",
        results["notes"].get("probability_of_the_example_record"),
    )
    print(
        f"load averages: start {results['machine']['load_avg_start']}, end {results['machine']['load_avg_end']}",
        f" ->  {path}",
    )


if __name__ == "__main__":
    main()
