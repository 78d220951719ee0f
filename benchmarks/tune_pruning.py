"""Pruning pays: the same study (seed, space, trial budget) with and without the pruner.

Runs two studies side by side in one process on the embedded 5,000 digits, with the search
space of params.yaml and no MLflow (only the search is timed), and prints for each the wall
time, the number of pruned trials and the best validation accuracy, then the time ratio.
Usage: python -m benchmarks.tune_pruning [--trials N] [--pruner median|hyperband]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import optuna

from benchmarks.tune_common import prepare
from mnist_mlops.artifacts.processed import load_splits
from mnist_mlops.tuning.objective import Objective
from mnist_mlops.tuning.study import make_pruner


def run(pruner: str, objective: Objective, trials: int, seed: int) -> dict:
    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=make_pruner(pruner),
    )
    start = time.perf_counter()
    study.optimize(objective, n_trials=trials)
    pruned = len(study.get_trials(states=(optuna.trial.TrialState.PRUNED,)))
    return {"seconds": time.perf_counter() - start, "pruned": pruned, "best": study.best_value}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--pruner", default="median", choices=["median", "hyperband"])
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        params, processed = prepare(Path(tmp))
        splits = load_splits(processed, ("train", "val"))
        objective = Objective(
            splits["train"],
            splits["val"],
            params.tune.space,
            params.model,
            params.train,
            params.tune.seed,
        )
        results = {}
        for pruner in ("none", args.pruner):
            results[pruner] = run(pruner, objective, args.trials, params.tune.seed)
    print(f"{args.trials} trials each, seed {params.tune.seed}, space of params.yaml, 5,000 digits")
    for name, result in results.items():
        print(
            f"  pruner {name:9s}: {result['seconds']:7.1f} s, {result['pruned']:2d} pruned, "
            f"best val_accuracy {result['best']:.4f}"
        )
    ratio = results["none"]["seconds"] / results[args.pruner]["seconds"]
    print(f"  wall time without / with pruning: {ratio:.2f}x")


if __name__ == "__main__":
    main()
