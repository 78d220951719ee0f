"""One study launch: a parent MLflow run, N worker processes, a summary and the plots.

:func:`launch` runs the study described by its ``tune`` section (callers override fields of it:
study name, total, timeout, workers, storage) until the study holds ``tune.n_trials`` finished
(COMPLETE + PRUNED) trials, counting those of earlier launches, exactly: never more. A study
already at its total starts no worker. Why the best trial is chosen among the first
``n_trials`` for the tune stage, and why a resumed study is not bit-identical to an
uninterrupted one: docs/decisions/tuning-workers.md.
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


def check_inputs(
    tune: TuneConfig, model: ModelConfig, train: TrainConfig, processed_dir: Path, location: str
) -> optuna.Study:
    """Fail before anything runs: missing data (DataError) or a study of another identity.

    Runs before the parent run exists, so that a refused launch leaves no MLflow run.

    Returns:
        The study (created, with this identity recorded, when it did not exist).
    """
    load_splits(processed_dir, names=("train", "val"))
    study = open_study(tune.study, open_storage(location), tune.pruner, tune.seed)
    check_study_identity(study, study_identity(tune, model, train, processed_dir), location)
    return study


def full_study(
    tune: TuneConfig, model: ModelConfig, train: TrainConfig, processed_dir: Path, root: Path
) -> optuna.Study | None:
    """Return the study if it already holds ``tune.n_trials`` finished trials, else ``None``.

    Checks what :func:`launch` checks first (storage, data, identity) and nothing else: no
    MLflow run, no worker, no TensorFlow.

    Raises:
        TuneError: Bad storage for the mode, or a study of another identity.
        DataError: The processed splits are missing or invalid.
    """
    location = resolve_storage(tune.storage, root)
    check_storage(location, tune.workers)
    study = check_inputs(tune, model, train, Path(processed_dir), location)
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
        logger.warning(
            "study %s holds %d finished trials, more than n_trials=%d: only the first %d "
            "(by trial number) are considered for the best trial",
            name,
            finished,
            first_n,
            first_n,
        )
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
    """Run the study ``tune.study`` until it has ``tune.n_trials`` finished trials.

    No trial starts after ``tune.timeout_s``; ``tune.workers`` processes run trials (1: this
    one); ``tune.storage`` (default: the project's journal) holds the study. The study ends
    with exactly ``tune.n_trials`` finished trials (or fewer at the timeout); one that holds
    them already starts no worker. A study first created by another identity (space, pruner,
    seed, ``model`` / ``train`` params, data) is refused before any run is created.

    Args:
        tune: The ``tune`` section of this launch (with the caller's overrides).
        model: The ``model`` section.
        train: The ``train`` section.
        mlflow_config: The ``mlflow`` section.
        processed_dir: The processed splits.
        root: The project folder (default journal and MLflow store, git checkout).
        raw_dir: The raw data folder, for the parent run's data tags (default: the project's).
        on_progress: Called with ``(finished, target)`` as trials finish.
        best_of_first_n: Choose the best trial among the first ``tune.n_trials`` finished
            trials by number (the tune stage: reproducible from params and data, a warning
            when the study holds more); ``False``: among all the study's trials.

    Returns:
        The launch's result.

    Raises:
        TuneError: Bad storage for the mode, a study run with another space / seed / params /
            data, or workers failed before the target was reached.
    """
    started = time.perf_counter()
    processed_dir = Path(processed_dir)
    raw_dir = Path(raw_dir) if raw_dir is not None else ProjectPaths(root).raw_dir
    location = resolve_storage(tune.storage, root)
    check_storage(location, tune.workers)
    study = check_inputs(tune, model, train, processed_dir, location)
    runs = start_parent_run(mlflow_config, tune, location, root, raw_dir, processed_dir)
    target = tune.n_trials
    jobs: list[WorkerJob] = []
    already = finished_count(study)
    if already < target:
        jobs = worker_jobs(tune, model, train, location, processed_dir, runs)
    else:
        logger.info(
            "study %s already holds %d finished trials (n_trials=%d): nothing to run, "
            "no worker started",
            tune.study,
            already,
            target,
        )

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
