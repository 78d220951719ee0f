"""One study launch: a parent MLflow run, N worker processes, a summary and the plots.

``n_trials`` is a total: a launch runs trials until the study holds that many finished
(COMPLETE + PRUNED) trials, counting those of earlier launches, so a killed study resumed
with the same command stops at the same total. Concurrent workers may finish up to
``workers - 1`` trials more than the target (each checks the count before starting).

Which trials compete for the best one:

* the tune stage (``best_of_first_n=True``) considers only the first ``n_trials`` finished
  trials by trial number, so that ``tuning/best_params.json`` is a function of ``params.yaml``
  and the data, not of what the (persistent, DVC-untracked) storage holds: lowering
  ``tune.n_trials`` from 30 to 10 gives the best of trials 0-9, as a fresh 10-trial study
  would, not the best of the 30 already run. A warning says when the study holds more;
* ``mnist-mlops tune`` (``best_of_first_n=False``) is interactive and reports the best of the
  whole study, like ``mnist-mlops study show``.

A launch refuses a study recorded with another search space, pruner, seed, ``model`` /
``train`` params or data (see :func:`~mnist_mlops.tuning.outputs.check_study_identity`).

A resumed study is not bit-identical to an uninterrupted one: the TPE sampler's random state
is not stored, so after a crash (or with a larger total) the sampler starts again from
``tune.seed`` with the trials the storage holds and may suggest other parameters than the
uninterrupted run would have; a killed trial is retried with its parameters. The trials
finished before the crash, and so the first-n rule, are unaffected.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mnist_mlops.config import MlflowConfig, ModelConfig, TrainConfig, TuneConfig
from mnist_mlops.data.preprocess import load_splits
from mnist_mlops.tuning.outputs import check_study_identity, study_identity
from mnist_mlops.tuning.parent_run import finish_parent_run, stale_run_closer, start_parent_run
from mnist_mlops.tuning.storage import TuneError, open_storage, resolve_storage
from mnist_mlops.tuning.study import finished_count, open_study
from mnist_mlops.tuning.summary import (
    best_params_document,
    best_trial,
    considered_trials,
    counts_summary,
)
from mnist_mlops.tuning.worker import WorkerJob, fail_stale, run_worker, worker_process

logger = logging.getLogger(__name__)

POLL_S = 1.0


@dataclass
class LaunchResult:
    """What a launch did and what the study holds afterwards.

    Attributes:
        study: The study name.
        storage: The database URL or journal file path.
        target: The total of finished trials wanted.
        counts: The study's trials by state (:func:`~.summary.counts_summary`).
        best: The best considered trial as ``best_params.json`` (``None``: none completed).
        parent_run_id: The launch's MLflow parent run.
        duration_s: How long the launch took.
        plots: The Optuna plots logged on the parent run.
        considered: How many finished trials competed for the best (the first ``target``
            ones with ``best_of_first_n``, else all of them).
    """

    study: str
    storage: str
    target: int
    counts: dict[str, int]
    best: dict[str, Any] | None
    parent_run_id: str
    duration_s: float
    plots: list[str] = field(default_factory=list)
    considered: int | None = None

    def metrics(self) -> dict[str, Any]:
        """Return the ``metrics/tune.json`` content."""
        considered = self.counts["finished"] if self.considered is None else self.considered
        return {
            "skipped": False,
            "study": self.study,
            "n_trials_target": self.target,
            **self.counts,
            "considered_trials": considered,
            "study_finished_trials": self.counts["finished"],
            "best_trial": self.best["trial"] if self.best else None,
            "best_val_accuracy": self.best["value"] if self.best else None,
            "duration_s": round(self.duration_s, 1),
            "mlflow_parent_run_id": self.parent_run_id,
        }


def _run_processes(jobs: list[WorkerJob], study: Any, progress: Callable[[int], None]) -> list[int]:
    """Run one spawned process per job, report the finished count; return the exit codes."""
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=worker_process, args=(job,)) for job in jobs]
    for process in processes:
        process.start()
    try:
        while any(process.is_alive() for process in processes):
            time.sleep(POLL_S)
            progress(finished_count(study))
    except BaseException:
        for process in processes:
            if process.is_alive():
                process.terminate()
        raise
    for process in processes:
        process.join()
    return [process.exitcode for process in processes]


def launch(
    tune: TuneConfig,
    model: ModelConfig,
    train: TrainConfig,
    mlflow_config: MlflowConfig,
    processed_dir: str | Path = "data/processed",
    study_name: str | None = None,
    n_trials: int | None = None,
    timeout_s: float | None = None,
    workers: int | None = None,
    storage: str | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    root: Path | None = None,
    best_of_first_n: bool = False,
) -> LaunchResult:
    """Run the study until it has ``n_trials`` finished trials (or the timeout passes).

    Arguments left ``None`` take their ``tune`` values. The study must have been run with the
    same space, pruner, seed, params and data, or be new (see the module docstring); a
    resumed study may not follow the same TPE sequence as an uninterrupted one.

    Args:
        tune: The ``tune`` section.
        model: The ``model`` section.
        train: The ``train`` section.
        mlflow_config: The ``mlflow`` section.
        processed_dir: The processed splits.
        study_name: The study (default ``tune.study``).
        n_trials: Total finished trials wanted (default ``tune.n_trials``).
        timeout_s: No new trial starts after this many seconds (default ``tune.timeout_s``).
        workers: Number of worker processes (default ``tune.workers``; 1 runs in-process).
        storage: Database URL or journal path (default: env, ``tune.storage``, journal file).
        on_progress: Called with ``(finished, target)`` as trials finish.
        root: The project folder (default journal and MLflow store).
        best_of_first_n: Choose the best trial among the first ``n_trials`` finished trials
            by number (the tune stage: reproducible from params and data, a warning when the
            study holds more); ``False``: among all the study's trials (interactive use).

    Returns:
        The launch's result.

    Raises:
        TuneError: Bad storage for the mode, a study run with another space / seed / params /
            data, or workers failed before the target was reached.
    """
    started = time.perf_counter()
    name = study_name or tune.study
    target = tune.n_trials if n_trials is None else n_trials
    workers = workers or tune.workers
    timeout_s = tune.timeout_s if timeout_s is None else timeout_s
    location = resolve_storage(storage or tune.storage, root)
    if location.startswith("sqlite") and workers > 1:
        raise TuneError(
            f"storage {location}: SQLite fails with parallel writers ('database is locked'); "
            "use the default journal file, a journal path, or PostgreSQL for --workers > 1"
        )
    load_splits(processed_dir, names=("train", "val"))  # fail early (DataError) when missing
    # check the study before the parent run exists, so a refused launch leaves no MLflow run
    check_study_identity(
        open_study(name, open_storage(location), tune.pruner, tune.seed),
        study_identity(tune, model, train, processed_dir),
        location,
    )
    runs = start_parent_run(mlflow_config, name, location, tune, workers, target, root)
    study = open_study(name, open_storage(location, stale_run_closer(runs)), tune.pruner, tune.seed)
    fail_stale(study)
    deadline = time.time() + timeout_s if timeout_s else None
    threads = max(1, (os.cpu_count() or 1) // workers) if workers > 1 else 0
    jobs = [
        WorkerJob(
            study=name,
            storage=location,
            target=target,
            deadline=deadline,
            processed_dir=str(processed_dir),
            tune=tune,
            model=model,
            train=train,
            runs=runs,
            index=index,
            threads=threads,
        )
        for index in range(workers)
    ]
    report = (lambda done: on_progress(done, target)) if on_progress else (lambda done: None)
    report(finished_count(study))
    status = "FAILED"
    try:
        if workers == 1:
            run_worker(jobs[0], on_trial=lambda _: report(finished_count(study)))
        else:
            codes = _run_processes(jobs, study, report)
            if any(codes) and finished_count(study) < target:
                raise TuneError(f"worker exit codes {codes}; see the log above")
        status = "FINISHED"
    except KeyboardInterrupt:
        status = "KILLED"
        raise
    finally:
        counts = counts_summary(study)
        first_n = target if best_of_first_n else None
        considered = len(considered_trials(study, first_n))
        best = best_trial(study, first_n)
        plots = finish_parent_run(runs, study, counts, best)
        runs.client().set_terminated(runs.parent_run_id, status)
    if first_n is not None and counts["finished"] > first_n:
        logger.warning(
            "study %s holds %d finished trials, more than n_trials=%d: only the first %d "
            "(by trial number) are considered for the best trial",
            name,
            counts["finished"],
            first_n,
            first_n,
        )
    logger.info(
        "study %s: %s, best %s of %d considered trials",
        name,
        counts,
        best.value if best else None,
        considered,
    )
    return LaunchResult(
        name,
        location,
        target,
        counts,
        best_params_document(study, tune.space, model, train, first_n),
        runs.parent_run_id,
        time.perf_counter() - started,
        plots,
        considered,
    )
