"""The model copies a register logs: found and deleted when no registered version uses them.

A register logs the trained model as a logged model of its training run (a copy under the
store's ``models/<model_id>/``) and then registers a version of it. A register that fails or
is killed in between leaves a copy no version points at; :func:`remove_unregistered_copies`
deletes those of one training run (their files first, then the logged model, as
``mlflow gc`` does). A register's copies carry :data:`COPY_TAGS`; other logged models of the
run (the train stage's Keras model) are never touched.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlflow import MlflowClient

logger = logging.getLogger(__name__)

COPY_TAGS = {"mnist_mlops.logged_by": "register"}


def remove_unregistered_copies(client: MlflowClient, run_id: str) -> list[str]:
    """Delete the register's copies (:data:`COPY_TAGS`) of run ``run_id`` that no version uses.

    Args:
        client: A client on the tracking store and registry.
        run_id: The training run the copies were logged into.

    Returns:
        The ids of the logged models deleted.

    Raises:
        MlflowException: The store cannot be read or written.
    """
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    experiment_id = client.get_run(run_id).info.experiment_id
    copies = client.search_logged_models(
        experiment_ids=[experiment_id], filter_string=f"source_run_id = '{run_id}'"
    )
    used = {version.model_id for version in client.search_model_versions(f"run_id = '{run_id}'")}
    removed = []
    for copy in copies:
        if copy.model_id in used or not COPY_TAGS.items() <= (copy.tags or {}).items():
            continue
        try:
            get_artifact_repository(copy.artifact_location).delete_artifacts()
        except OSError as exc:  # e.g. the store it could not write to in the first place
            logger.warning("could not delete the files of %s: %s", copy.model_id, exc)
        client.delete_logged_model(copy.model_id)
        removed.append(copy.model_id)
    if removed:
        logger.warning("deleted %d unregistered model copies of run %s", len(removed), run_id)
    return removed
