"""Parallel workers: finished trials per minute with 1 and with 2 worker processes.

Each run is a full launch (journal storage, MLflow parent and child runs, spawned workers) of
a fresh study on the embedded 5,000 digits with the search space of params.yaml. Measured side
by side in one run; on a machine with fewer free cores than workers there is little to gain.
Usage: python -m benchmarks.tune_workers [--trials N] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from benchmarks.tune_common import prepare
from mnist_mlops.tuning.launch import launch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        params, processed = prepare(root)
        os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{root / 'mlflow.db'}"
        rates = {}
        for workers in args.workers:
            start = time.perf_counter()
            tune = params.tune.model_copy(
                update={
                    "study": f"bench-{workers}",
                    "n_trials": args.trials,
                    "workers": workers,
                    "storage": str(root / f"bench-{workers}.journal"),
                }
            )
            result = launch(
                tune,
                params.model,
                params.train,
                params.mlflow,
                processed_dir=processed,
                root=root,
            )
            minutes = (time.perf_counter() - start) / 60
            rates[workers] = result.counts["finished"] / minutes
            print(
                f"  {workers} worker(s): {result.counts['finished']} finished trials in "
                f"{minutes * 60:.1f} s = {rates[workers]:.1f} trials/min"
            )
    print(f"cores: {os.cpu_count()}, trials per launch: {args.trials}")
    base = rates[args.workers[0]]
    for workers, rate in rates.items():
        print(f"  {workers} worker(s): {rate / base:.2f}x the rate of {args.workers[0]}")


if __name__ == "__main__":
    main()
