"""One worker: run trials of a shared study until it holds ``n_trials`` finished trials.

How the total stays exact: docs/decisions/tuning-workers.md.
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import optuna
from optuna.trial import FrozenTrial, TrialState

from mnist_mlops.artifacts.processed import load_splits
from mnist_mlops.config.params import ModelConfig, TrainConfig, TuneConfig
from mnist_mlops.errors import TuneError
from mnist_mlops.tuning.budget import BudgetLock
from mnist_mlops.tuning.storage import open_storage
from mnist_mlops.tuning.study import (
    DURATION_ATTR,
    FINISHED,
    REASON_ATTR,
    finished_count,
    open_study,
    state_counts,
)
from mnist_mlops.tuning.trial_runs import TrialRuns, close_stale_run

logger = logging.getLogger(__name__)

MAX_CONSECUTIVE_FAILURES = 3
WAIT_S = 1.0


@dataclass(frozen=True)
class WorkerJob:
    """Everything a worker needs (picklable, sent to spawned processes).

    Attributes:
        storage: Database URL or journal file path (resolved).
        deadline: ``time.time()`` after which no trial starts (``None``: none).
        runs: MLflow child runs (``None``: no tracking).
        index: The worker number (offsets the sampler seed).
        threads: TensorFlow threads per op (0: TensorFlow decides).
    """

    tune: TuneConfig
    storage: str
    deadline: float | None
    processed_dir: Path
    model: ModelConfig
    train: TrainConfig
    runs: TrialRuns | None = None
    index: int = 0
    threads: int = 0


def _limit_threads(threads: int) -> None:
    """Limit TensorFlow's thread pools to ``threads`` (0: leave them)."""
    if threads <= 0:
        return
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # TensorFlow already initialised in this process
        logger.debug("TensorFlow threads already fixed")


def fail_stale(study: optuna.Study) -> None:
    """Fail the study's stale trials now (and queue their parameters again)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


def progress_line(study: optuna.Study, trial: FrozenTrial, target: int) -> str:
    """Return ``trial k/N · #number state · value · best so far · seconds · params · reason``.

    ``k`` is the study's finished count.
    """
    value = "-" if trial.value is None else f"{trial.value:.4f}"
    completed = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]
    best = max((t.value for t in completed if t.value is not None), default=None)
    best_text = "-" if best is None else f"{best:.4f}"
    reason = trial.user_attrs.get(REASON_ATTR)
    return (
        f"trial {finished_count(study)}/{target} · #{trial.number} {trial.state.name.lower()} · "
        f"value {value} · best so far {best_text} · {trial.user_attrs.get(DURATION_ATTR)} s · "
        f"{trial.params}" + (f" · {reason}" if reason else "")
    )


def run_worker(job: WorkerJob, on_trial: Callable[[FrozenTrial], None] | None = None) -> int:
    """Run trials until the study has ``job.tune.n_trials`` finished trials or the deadline passes.

    Each trial starts only while finished + running trials are below the target, counted under
    the study's :class:`~.budget.BudgetLock` after failing stale trials. ``on_trial`` is called
    with each trial this worker finished. Returns the number it ran.

    Raises:
        TuneError: ``MAX_CONSECUTIVE_FAILURES`` trials in a row failed (a bug, not bad luck).
    """
    from mnist_mlops.tuning.objective import Objective  # Keras: only where trials run

    _limit_threads(job.threads)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    splits = load_splits(job.processed_dir, names=("train", "val"))
    on_stale = partial(close_stale_run, job.runs.tracking_uri) if job.runs else None
    storage = open_storage(job.storage, on_stale=on_stale)
    target = job.tune.n_trials
    study = open_study(job.tune.study, storage, job.tune.pruner, job.tune.seed + job.index)
    objective = Objective(
        train_split=splits["train"],
        val_split=splits["val"],
        space=job.tune.space,
        model=job.model,
        train=job.train,
        seed=job.tune.seed,
        runs=job.runs,
    )
    done: list[FrozenTrial] = []

    def record(current: optuna.Study, trial: FrozenTrial) -> None:
        done.append(trial)
        logger.info("%s", progress_line(current, trial, target))
        if on_trial is not None:
            on_trial(trial)

    def admitted(trial: optuna.Trial) -> float:
        budget.release()  # the trial exists (RUNNING): the next worker may count
        return objective(trial)

    failures = 0
    budget = BudgetLock(job.storage, job.tune.study)
    try:
        while job.deadline is None or time.time() < job.deadline:
            budget.acquire()  # fail stale trials, count and start: one step for all workers
            fail_stale(study)  # (a stale trial's retry is queued before anyone counts)
            counts = state_counts(study)
            finished = sum(counts[state] for state in FINISHED)
            if finished >= target:
                break
            if finished + counts[TrialState.RUNNING] >= target:
                budget.release()
                time.sleep(WAIT_S)  # the last trials run elsewhere: wait (or for their death)
                continue
            try:
                study.optimize(admitted, n_trials=1, catch=(Exception,), callbacks=[record])
            finally:
                budget.release()
            failures = _failures(done[-1], failures, job)
    finally:
        budget.close()
    logger.info("worker %d ran %d trials", job.index, len(done))
    return len(done)


def _failures(last: FrozenTrial, failures: int, job: WorkerJob) -> int:
    """Return the count of failures in a row after ``last``; raise when there are too many."""
    failures = failures + 1 if last.state == TrialState.FAIL else 0
    if failures >= MAX_CONSECUTIVE_FAILURES:
        raise TuneError(
            f"{failures} trials in a row failed in worker {job.index} (pid {os.getpid()}); "
            f"last error: {last.user_attrs.get(REASON_ATTR, 'see the log')}"
        )
    return failures


def worker_process(job: WorkerJob) -> None:
    """Entry point of a spawned worker process (exit code 1 on failure)."""
    logging.basicConfig(
        level=logging.INFO, format=f"%(asctime)s worker-{job.index} %(levelname)s %(message)s"
    )
    try:
        run_worker(job)
    except Exception as exc:
        logger.error("worker %d failed: %s", job.index, exc)
        raise SystemExit(1) from None
