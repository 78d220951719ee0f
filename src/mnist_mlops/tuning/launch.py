"""One study launch: a parent MLflow run, the workers, a summary and the plots.

Decisions (exact total, best of the first n, resuming): docs/decisions/tuning-workers.md.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import optuna
from optuna.trial import FrozenTrial

from mnist_mlops.artifacts.processed import load_splits
from mnist_mlops.config.params import MlflowConfig, ModelConfig, TrainConfig, TuneConfig
from mnist_mlops.config.paths import ProjectPaths
from mnist_mlops.errors import TuneError
from mnist_mlops.tracking.owner import KILLED, end_status
from mnist_mlops.tuning.outputs import check_study_identity, study_identity
from mnist_mlops.tuning.parent_run import finish_parent_run, start_parent_run
from mnist_mlops.tuning.pool import run_workers, worker_jobs
from mnist_mlops.tuning.result import LaunchResult
from mnist_mlops.tuning.storage import open_storage, resolve_storage
from mnist_mlops.tuning.study import finished_count, open_study
from mnist_mlops.tuning.summary import (
    best_params_document,
    best_trial,
    considered_trials,
    counts_summary,
)
from mnist_mlops.tuning.trial_runs import TrialRuns, trial_run_ids
from mnist_mlops.tuning.worker import WorkerJob

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Outcome:
    """The study after the workers stopped: counts, the best considered trial, the plots."""

    counts: dict[str, int]
    considered: list[FrozenTrial]
    best: FrozenTrial | None
    plots: list[str]


def check_storage(location: str, workers: int) -> None:
    """Refuse SQLite with parallel workers (it fails with 'database is locked')."""
    if location.startswith("sqlite") and workers > 1:
        raise TuneError(
            f"storage {location}: SQLite fails with parallel writers ('database is locked'); "
            "use the default journal file, a journal path, or PostgreSQL for --workers > 1"
        )


def open_checked(
    tune: TuneConfig, model: ModelConfig, train: TrainConfig, processed_dir: Path, root: Path
) -> tuple[str, optuna.Study]:
    """Return the resolved storage and the study, after the checks that precede any run.

    The study is created, with this identity recorded, when it does not exist.

    Raises:
        TuneError: Bad storage for the mode, or a study recorded with another identity.
        DataError: The train / val splits are missing or invalid.
    """
    location = resolve_storage(tune.storage, root)
    check_storage(location, tune.workers)
    load_splits(processed_dir, names=("train", "val"))
    study = open_study(tune.study, open_storage(location), tune.pruner, tune.seed)
    check_study_identity(study, study_identity(tune, model, train, processed_dir), location)
    return location, study


def full_study(
    tune: TuneConfig, model: ModelConfig, train: TrainConfig, processed_dir: Path, root: Path
) -> optuna.Study | None:
    """Return the study if it already holds ``tune.n_trials`` finished trials, else ``None``.

    Makes only :func:`open_checked`'s checks (and raises its errors): no MLflow run, no worker.
    """
    study = open_checked(tune, model, train, Path(processed_dir), root)[1]
    return study if finished_count(study) >= tune.n_trials else None


def finish(study: optuna.Study, runs: TrialRuns, status: str, first_n: int | None) -> _Outcome:
    """Summarise the study on the parent run and close it with ``status``."""
    counts = counts_summary(study)
    best = best_trial(study, first_n)
    plots = finish_parent_run(runs, study, counts, best)
    runs.client().set_terminated(runs.parent_run_id, status)
    return _Outcome(counts, considered_trials(study, first_n), best, plots)


def _log_outcome(name: str, outcome: _Outcome, first_n: int | None) -> None:
    """Log the counts and best value; warn when trials beyond the first n were left out."""
    finished = outcome.counts["finished"]
    if first_n is not None and finished > first_n:
        message = (
            "study %s holds %d finished trials, more than n_trials=%d: only the first %d compete"
        )
        logger.warning(message, name, finished, first_n, first_n)
    best, considered = (outcome.best.value if outcome.best else None), len(outcome.considered)
    logger.info(
        "study %s: %s, best %s of %d considered trials", name, outcome.counts, best, considered
    )


def launch(
    tune: TuneConfig,
    model: ModelConfig,
    train: TrainConfig,
    mlflow_config: MlflowConfig,
    *,
    processed_dir: str | Path,
    root: Path,
    raw_dir: str | Path | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    best_of_first_n: bool = False,
) -> LaunchResult:
    """Run the study ``tune.study`` until it holds exactly ``tune.n_trials`` finished trials.

    ``tune.workers`` processes (1: this one) start trials until ``tune.timeout_s``; a study at
    its total starts none. A refused launch (storage, data, identity) creates no MLflow run.

    Args:
        tune: The ``tune`` section with the caller's overrides.
        model: The ``model`` section.
        train: The ``train`` section.
        mlflow_config: The ``mlflow`` section.
        processed_dir: The processed splits.
        root: The project folder (default journal and MLflow store, git checkout).
        raw_dir: The raw data folder for the parent run's tags (default: the project's).
        on_progress: Called with ``(finished, target)`` as trials finish.
        best_of_first_n: The best trial among the first ``tune.n_trials`` finished ones (the
            tune stage); ``False``: among all.

    Raises:
        TuneError: Bad storage for the mode, a study of another identity, or workers failed
            before the target was reached.
        DataError: The processed splits are missing or invalid.
    """
    started = time.perf_counter()
    processed_dir = Path(processed_dir)
    raw_dir = Path(raw_dir) if raw_dir is not None else ProjectPaths(root).raw_dir
    location, study = open_checked(tune, model, train, processed_dir, root)
    runs = start_parent_run(mlflow_config, tune, location, root, raw_dir, processed_dir)
    target = tune.n_trials
    jobs: list[WorkerJob] = []
    already = finished_count(study)
    if already < target:
        jobs = worker_jobs(tune, model, train, location, processed_dir, runs)
    else:
        message = "study %s already holds %d finished trials (n_trials=%d): no worker started"
        logger.info(message, tune.study, already, target)

    def report(done: int) -> None:
        if on_progress is not None:
            on_progress(done, target)

    report(already)
    first_n = target if best_of_first_n else None
    status = "FAILED"
    try:
        if jobs:
            run_workers(jobs, study, report)
        status = "FINISHED"
    except BaseException as error:
        status = end_status(error)  # KILLED when stopped (a signal, Ctrl-C)
        raise
    finally:
        if status == KILLED:  # stopped: close the parent run at once, no summary or plots
            runs.client().set_terminated(runs.parent_run_id, status)
        else:
            outcome = finish(study, runs, status, first_n)
    _log_outcome(tune.study, outcome, first_n)
    return LaunchResult(
        study=tune.study,
        storage=location,
        target=target,
        counts=outcome.counts,
        best=best_params_document(study, tune.space, model, train, first_n),
        parent_run_id=runs.parent_run_id,
        duration_s=time.perf_counter() - started,
        plots=outcome.plots,
        considered=len(outcome.considered),
        tracking_uri=runs.tracking_uri,
        experiment_id=runs.experiment_id,
        trial_run_ids=trial_run_ids(outcome.considered),
    )
