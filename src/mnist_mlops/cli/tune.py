"""``mnist-mlops tune``: launch (or resume, or join) an Optuna study with a progress bar."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from mnist_mlops.artifacts.best_params import BestParams
from mnist_mlops.cli.arguments import int_at_least
from mnist_mlops.config.params import TuneConfig, load_params
from mnist_mlops.config.paths import RELATIVE, ProjectPaths

# option -> the field of the tune section it overrides
TUNE_OVERRIDES = {"n_trials": "n_trials", "timeout": "timeout_s", "workers": "workers"}


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
    parser.add_argument(
        "--data",
        type=Path,
        help=f"processed splits folder ({RELATIVE['processed_dir']} beside --params)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def effective_tune(args: argparse.Namespace, tune: TuneConfig, study: str) -> TuneConfig:
    """Return ``tune`` with the study name and the options given on the command line."""
    update: dict[str, object] = {"study": study}
    for option, name in TUNE_OVERRIDES.items():
        if getattr(args, option) is not None:
            update[name] = getattr(args, option)
    if args.storage:
        update["storage"] = args.storage
    return tune.model_copy(update=update)


def run(args: argparse.Namespace) -> int:
    """Launch the study and print its summary; on a stop signal end its runs KILLED.

    Returns 0, or 128 + the signal number when stopped.
    """
    from mnist_mlops import stopping
    from mnist_mlops.tracking.owner import SESSION_ENV, close_session_runs, start_session

    session = os.environ.get(SESSION_ENV)
    start_session()
    uninstall = stopping.install(
        cleanup=lambda: close_session_runs("mnist-mlops tune stopped (forced)")
    )
    try:
        return _run(args)
    except KeyboardInterrupt as stop:
        print(f"mnist-mlops tune: stopped ({stop or 'KeyboardInterrupt'})", file=sys.stderr)
        close_session_runs(f"mnist-mlops tune stopped: {stop or 'KeyboardInterrupt'}")
        return stopping.exit_code(stop)
    finally:
        uninstall()
        if session is None:
            os.environ.pop(SESSION_ENV, None)
        else:
            os.environ[SESSION_ENV] = session


def _run(args: argparse.Namespace) -> int:
    """:func:`run` without the stop handling."""
    from tqdm import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    from mnist_mlops.tuning.launch import full_study, launch
    from mnist_mlops.tuning.outputs import pipeline_study_name
    from mnist_mlops.tuning.storage import resolve_storage
    from mnist_mlops.tuning.summary import best_params_document, counts_summary

    params = load_params(args.params)
    paths = ProjectPaths.for_params_file(args.params)
    data = args.data or paths.processed_dir
    study = args.study or pipeline_study_name(params.tune, params.model, params.train, data)
    tune = effective_tune(args, params.tune, study)
    full = full_study(tune, params.model, params.train, data, paths.root)
    if full is not None:  # nothing to run: no MLflow run, no worker
        counts = counts_summary(full)
        print(f"study {study} in {resolve_storage(tune.storage, paths.root)}: {json.dumps(counts)}")
        print(
            f"study {study} already holds {counts['finished']} finished trials "
            f"(--n-trials {tune.n_trials}): nothing to run, no worker started"
        )
        _print_best(best_params_document(full, tune.space, params.model, params.train, None))
        return 0
    bar = tqdm(
        total=tune.n_trials,
        desc="finished trials",
        unit="trial",
        disable=args.no_progress,
        file=sys.stderr,
    )

    def progress(done: int, total: int) -> None:
        bar.update(max(0, min(done, total) - bar.n))

    try:
        with logging_redirect_tqdm(tqdm_class=tqdm):  # log lines above the bar, not on it
            result = launch(
                tune,
                params.model,
                params.train,
                params.mlflow,
                processed_dir=data,
                root=paths.root,
                raw_dir=paths.raw_dir,
                on_progress=progress,
            )
    finally:
        bar.close()
    print(f"study {result.study} in {result.storage}: {json.dumps(result.counts)}")
    _print_best(result.best)
    print(f"MLflow parent run: {result.parent_run_id}")
    return 0


def _print_best(best: BestParams | None) -> None:
    """Print the best trial's number, value and parameters (nothing when none completed)."""
    if best:
        document = best.to_json()
        print(f"best trial {best.trial}: val_accuracy {best.value:.4f}")
        print(json.dumps({"model": document["model"], "train": document["train"]}))
