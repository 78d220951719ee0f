"""Which process owns an MLflow run, and closing the runs whose process is gone.

See docs/decisions/run-ownership.md.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

from mnist_mlops.processes import process_started

if TYPE_CHECKING:
    from mlflow import ActiveRun, MlflowClient

logger = logging.getLogger(__name__)

SESSION_ENV = "MNIST_MLOPS_SESSION"
HOST_TAG = "mnist_mlops.host"
PID_TAG = "mnist_mlops.pid"
STARTED_TAG = "mnist_mlops.process_started"
SESSION_TAG = "mnist_mlops.session"
CLOSED_TAG = "mnist_mlops.closed_by"
KILLED = "KILLED"
MAX_RUNS = 1000


def process_id(pid: int | None = None) -> str:
    """Return ``host:pid:start`` for ``pid`` (default: this process)."""
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}:{pid}:{process_started(pid)}"


def start_session() -> str:
    """Make this process the session of the runs it and its child processes create."""
    os.environ[SESSION_ENV] = process_id()
    return os.environ[SESSION_ENV]


def owner_tags() -> dict[str, str]:
    """Return the tags that name the process creating a run, and its session."""
    pid = os.getpid()
    return {
        HOST_TAG: socket.gethostname(),
        PID_TAG: str(pid),
        STARTED_TAG: str(process_started(pid)),
        SESSION_TAG: os.environ.get(SESSION_ENV) or process_id(pid),
    }


def end_status(error: BaseException | None) -> str:
    """Return FINISHED for ``None``, FAILED for an :class:`Exception`, else KILLED (a stop)."""
    if error is None:
        return "FINISHED"
    return "FAILED" if isinstance(error, Exception) else KILLED


@contextmanager
def owned_run(run_name: str | None, tags: Mapping[str, str]) -> Iterator[ActiveRun]:
    """``mlflow.start_run`` with :func:`owner_tags`; a stop ends the run KILLED, not FAILED."""
    import mlflow

    run = mlflow.start_run(run_name=run_name, tags={**tags, **owner_tags()})
    try:
        yield run
    except BaseException as error:
        mlflow.end_run(end_status(error))
        raise
    mlflow.end_run("FINISHED")


def _running(client: MlflowClient, experiment_ids: list[str], condition: str) -> list:
    """Return the RUNNING runs of the experiments that match ``condition`` (a tag filter)."""
    return client.search_runs(
        experiment_ids,
        filter_string=f"attributes.status = 'RUNNING' and {condition}",
        max_results=MAX_RUNS,
    )


def _close(client: MlflowClient, run_id: str, reason: str) -> bool:
    """Mark one run KILLED with the reason as a tag; ``False`` (untouched) if it ended meanwhile."""
    if client.get_run(run_id).info.status != "RUNNING":
        return False
    client.set_tag(run_id, CLOSED_TAG, reason)
    client.set_terminated(run_id, KILLED)
    return True


def sweep_ghost_runs(experiment_id: str, client: MlflowClient | None = None) -> list[str]:
    """Mark KILLED the experiment's RUNNING runs of this host whose process is gone; return ids."""
    from mlflow import MlflowClient

    client = client or MlflowClient()
    host = socket.gethostname()
    closed = []
    for run in _running(client, [experiment_id], f"tags.`{HOST_TAG}` = '{host}'"):
        tags = run.data.tags
        try:
            pid = int(tags.get(PID_TAG, ""))
        except ValueError:
            continue
        if process_started(pid) == tags.get(STARTED_TAG):
            continue  # its process still runs
        if _close(client, run.info.run_id, f"ghost sweep by {process_id()}: process {pid} is gone"):
            closed.append(run.info.run_id)
    if closed:
        logger.warning("marked %d runs KILLED whose process had died: %s", len(closed), closed)
    return closed


def close_session_runs(reason: str) -> list[str]:
    """Mark KILLED (tagged ``reason``) the RUNNING runs of this process's session; return ids.

    Does nothing in a process that never imported MLflow (it created no run).
    """
    if "mlflow" not in sys.modules:
        return []
    from mlflow import MlflowClient

    client = MlflowClient()
    session = os.environ.get(SESSION_ENV) or process_id()
    experiments = [experiment.experiment_id for experiment in client.search_experiments()]
    running = _running(client, experiments, f"tags.`{SESSION_TAG}` = '{session}'")
    closed = [run.info.run_id for run in running if _close(client, run.info.run_id, reason)]
    if closed:
        logger.warning("marked %d runs KILLED (%s)", len(closed), reason)
    return closed
