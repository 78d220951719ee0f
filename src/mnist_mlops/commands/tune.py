"""``mnist-mlops tune``: launch (or resume, or join) an Optuna study with a progress bar."""

from __future__ import annotations

import argparse
import json
import sys

from mnist_mlops.commands import int_at_least
from mnist_mlops.config import load_params


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``tune`` sub-command."""
    parser = subparsers.add_parser(
        "tune",
        help="run an Optuna study until it has N finished trials (resumes / joins by name)",
        description="Run trials of the study until it holds --n-trials finished (COMPLETE or "
        "PRUNED) trials in total. Run the same command again to resume after a crash, or from "
        "another shell / machine (same --study and --storage) to add workers. It reports the "
        "best trial of the whole study; the pipeline's tune stage uses only the first "
        "tune.n_trials finished trials.",
    )
    parser.add_argument(
        "--study",
        help="study name (default: the pipeline's study, <tune.study>-<fingerprint of space, "
        "params and data>, so that this command adds workers to the tune stage's study)",
    )
    parser.add_argument(
        "--n-trials",
        type=int_at_least(0),
        help="total finished trials wanted (default: tune.n_trials)",
    )
    parser.add_argument("--timeout", type=float, help="start no trial after S seconds")
    parser.add_argument(
        "--workers", type=int, choices=range(1, 65), metavar="N", help="worker processes (1-64)"
    )
    parser.add_argument(
        "--storage",
        help="database URL (postgresql://...) or journal file path "
        "(default: $MNIST_MLOPS_OPTUNA_STORAGE, tune.storage, optuna.journal)",
    )
    parser.add_argument("--data", default="data/processed", help="processed splits folder")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Launch the study and print its summary."""
    from tqdm import tqdm

    from mnist_mlops.tuning.launch import launch
    from mnist_mlops.tuning.outputs import pipeline_study_name

    params = load_params(args.params)
    study = args.study or pipeline_study_name(params.tune, params.model, params.train, args.data)
    target = params.tune.n_trials if args.n_trials is None else args.n_trials
    bar = tqdm(
        total=target,
        desc="finished trials",
        unit="trial",
        disable=args.no_progress,
        file=sys.stderr,
    )

    def progress(done: int, total: int) -> None:
        bar.update(max(0, min(done, total) - bar.n))

    try:
        result = launch(
            params.tune,
            params.model,
            params.train,
            params.mlflow,
            processed_dir=args.data,
            study_name=study,
            n_trials=args.n_trials,
            timeout_s=args.timeout,
            workers=args.workers,
            storage=args.storage,
            on_progress=progress,
        )
    finally:
        bar.close()
    print(f"study {result.study} in {result.storage}: {json.dumps(result.counts)}")
    if result.best:
        print(f"best trial {result.best['trial']}: val_accuracy {result.best['value']:.4f}")
        print(json.dumps({"model": result.best["model"], "train": result.best["train"]}))
    print(f"MLflow parent run: {result.parent_run_id}")
    return 0
