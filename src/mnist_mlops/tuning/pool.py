"""The worker pool of a launch: one worker runs in this process, several in spawned ones."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from pathlib import Path

import optuna

from mnist_mlops.config.params import ModelConfig, TrainConfig, TuneConfig
from mnist_mlops.errors import TuneError
from mnist_mlops.tuning.study import finished_count
from mnist_mlops.tuning.trial_runs import TrialRuns
from mnist_mlops.tuning.worker import WorkerJob, run_worker, worker_process

POLL_S = 1.0
STOP_S = 3.0  # a stopped launch waits this long for its workers before killing them


def worker_jobs(
    tune: TuneConfig,
    model: ModelConfig,
    train: TrainConfig,
    location: str,
    processed_dir: Path,
    runs: TrialRuns,
) -> list[WorkerJob]:
    """Return one job per worker; with several, TensorFlow's threads are shared out."""
    deadline = time.time() + tune.timeout_s if tune.timeout_s else None
    threads = max(1, (os.cpu_count() or 1) // tune.workers) if tune.workers > 1 else 0
    return [
        WorkerJob(
            tune=tune,
            storage=location,
            deadline=deadline,
            processed_dir=processed_dir,
            model=model,
            train=train,
            runs=runs,
            index=index,
            threads=threads,
        )
        for index in range(tune.workers)
    ]


def _run_processes(
    jobs: list[WorkerJob], study: optuna.Study, progress: Callable[[int], None]
) -> list[int | None]:
    """Run one spawned process per job; return the exit codes."""
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
        deadline = time.monotonic() + STOP_S
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        raise
    for process in processes:
        process.join()
    return [process.exitcode for process in processes]


def run_workers(
    jobs: list[WorkerJob], study: optuna.Study, progress: Callable[[int], None]
) -> None:
    """Run the jobs, calling ``progress`` with the study's finished count as it grows.

    A stopped or failing launcher terminates its worker processes (killed after ``STOP_S``).

    Raises:
        TuneError: Workers failed before the study reached its target.
    """
    if len(jobs) == 1:
        run_worker(jobs[0], on_trial=lambda _: progress(finished_count(study)))
        return
    codes = _run_processes(jobs, study, progress)
    if any(codes) and finished_count(study) < jobs[0].tune.n_trials:
        raise TuneError(f"worker exit codes {codes}; see the log above")
