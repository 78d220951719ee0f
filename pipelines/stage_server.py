"""Which Prefect server a stage's flow runs go to, and what they are called and tagged."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from prefect import tags
from prefect.settings import PREFECT_API_URL, temporary_settings

from mnist_mlops.tracking.provenance import DVC_EXP_NAME_ENV, git_commit, run_name
from pipelines.prefect_server import project_server

logger = logging.getLogger("mnist_mlops.stage")
_flow_run_name: ContextVar[str | None] = ContextVar("stage_flow_run_name", default=None)


def flow_run_name() -> str:
    """Return the name of the flow run starting now: the stage's label, else the flow's name."""
    from prefect.runtime import flow_run

    return _flow_run_name.get() or str(flow_run.flow_name)


def stage_labels(
    stage: str, root: Path, mlflow_experiment: str | None = None
) -> tuple[str, list[str]]:
    """Return the flow run name (as its MLflow runs': ``train · @1a2b3c4 · exp my-exp``) and tags.

    Tags: ``stage:<stage>``, ``commit:<short commit of root>``, ``mlflow-experiment:<name>``
    (when given) and, inside ``dvc exp run``, ``exp:<DVC experiment name>``.
    """
    commit, dirty = git_commit(root)
    provenance = {"git.commit": commit, "git.dirty": str(dirty).lower()} if commit else {}
    labels = [f"stage:{stage}"]
    if commit:
        labels.append(f"commit:{commit[:7]}")
    if mlflow_experiment:
        labels.append(f"mlflow-experiment:{mlflow_experiment}")
    experiment = os.environ.get(DVC_EXP_NAME_ENV)
    if experiment:
        labels.append(f"exp:{experiment}")
    return run_name(stage, [], provenance), labels


@contextmanager
def stage_server(root: Path) -> Iterator[str | None]:
    """Point Prefect at ``PREFECT_API_URL``, else the project's server; yield the API URL.

    ``None``: the project's server would not start (Prefect then starts an ephemeral one).
    """
    configured = PREFECT_API_URL.value()
    if configured:
        yield str(configured)
        return
    with project_server(root) as api_url:
        if api_url is None:
            logger.warning("no project Prefect server: this stage starts an ephemeral one")
            yield None
            return
        with temporary_settings(updates={PREFECT_API_URL: api_url}):
            yield api_url


@contextmanager
def stage_context(stage: str, root: Path, mlflow_experiment: str | None = None) -> Iterator[None]:
    """Run the block as stage ``stage``: its server, its flow run's name and tags."""
    name, labels = stage_labels(stage, root, mlflow_experiment)
    token = _flow_run_name.set(name)
    try:
        with stage_server(root), tags(*labels):
            yield
    finally:
        _flow_run_name.reset(token)
