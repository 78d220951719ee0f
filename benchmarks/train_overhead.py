"""Tracking overhead of the train stage: tracked fit vs a bare Keras fit, same config and data.

Side by side in one process, alternating, --repeats times each:
  bare     set_determinism + build_model + model.fit(validation_data=val): no callbacks at all;
  tracked  mnist_mlops.training.train_tracked (what `python -m pipelines train` runs): the same
           fit plus the NaN guard and the per-epoch MLflow callback, inside an MLflow run with
           params, tags, summary, history PNG and the logged model.
Printed: median fit time of each and their ratio (target <= 1.05: tracking costs under 5% of
the fit; also fastest vs fastest, steadier on a busy machine), the time spent inside the MLflow
callback itself, the tracked run's whole wall time (fit + everything logged after it), and the
test accuracy of the config (default: the course model). The MLflow store is a temporary SQLite one.
Data: data/processed of this checkout (run `make repro` first). Usage:
  python -m benchmarks.train_overhead [--repeats N] [--epochs N] [--params params.yaml]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from mnist_mlops.artifacts.processed import load_splits
from mnist_mlops.config.params import MlflowConfig, load_params
from mnist_mlops.config.paths import ProjectPaths
from mnist_mlops.evaluation.metrics import evaluate_model
from mnist_mlops.tracking.log import flatten_params
from mnist_mlops.tracking.setup import setup_tracking
from mnist_mlops.training.model import build_model, set_determinism
from mnist_mlops.training.tracked import train_tracked


def bare_fit(model_config, train_config, splits) -> float:
    set_determinism(train_config.seed)
    model = build_model(model_config, train_config.optimizer)
    start = time.perf_counter()
    model.fit(
        splits["train"].x,
        splits["train"].y,
        validation_data=(splits["val"].x, splits["val"].y),
        epochs=train_config.epochs,
        batch_size=train_config.batch_size,
        verbose=0,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, help="override train.epochs")
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--data", help="processed splits (default: the project's)")
    args = parser.parse_args()
    paths = ProjectPaths.for_params_file(args.params)
    data = Path(args.data) if args.data else paths.processed_dir
    params = load_params(args.params)
    model_config, train_config = params.model, params.train
    if args.epochs:
        train_config = train_config.model_copy(update={"epochs": args.epochs})
    splits = load_splits(data)
    logged = flatten_params(model_config, "model") | flatten_params(train_config, "train")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{Path(tmp) / 'mlflow.db'}"
        setup_tracking(MlflowConfig(experiment="benchmark"), Path(tmp))
        bare_fit(model_config, train_config, splits)  # warm-up: TF graph tracing, caches
        bare, tracked, wall = [], [], []
        trained = None
        inside = []
        for repeat in range(args.repeats):
            if repeat % 2 == 0:  # alternate the order so that drift in load cancels out
                bare.append(bare_fit(model_config, train_config, splits))
            start = time.perf_counter()
            trained = train_tracked(model_config, train_config, splits, logged, run_name="bench")
            wall.append(time.perf_counter() - start)
            tracked.append(trained.fit_seconds)
            inside.append(trained.tracking_seconds)
            if repeat % 2 == 1:
                bare.append(bare_fit(model_config, train_config, splits))
        accuracy = evaluate_model(trained.model, splits["test"]).metrics.test_accuracy
    bare_s, tracked_s, wall_s = (statistics.median(t) for t in (bare, tracked, wall))
    print(
        f"data: {len(splits['train'].y)} train / {len(splits['val'].y)} val / "
        f"{len(splits['test'].y)} test digits ({data}); model {model_config.hidden_layers} "
        f"{model_config.activation}, {train_config.optimizer.name}, "
        f"{train_config.epochs} epochs, batch {train_config.batch_size}"
    )
    print(f"bare Keras fit       median {bare_s:7.3f} s  {[round(t, 3) for t in bare]}")
    print(f"tracked fit          median {tracked_s:7.3f} s  {[round(t, 3) for t in tracked]}")
    print(
        f"ratio tracked / bare        {tracked_s / bare_s:7.3f}  (target <= 1.05; "
        f"fastest vs fastest {min(tracked) / min(bare):.3f})"
    )
    print(
        f"time inside the MLflow callback per fit: median {statistics.median(inside):.4f} s "
        f"= {statistics.median(inside) / bare_s:.2%} of the bare fit"
    )
    print(f"tracked run, wall    median {wall_s:7.3f} s  (fit + params, summary, PNG, model)")
    print(f"test accuracy (last tracked run): {accuracy:.4f}")


if __name__ == "__main__":
    main()
