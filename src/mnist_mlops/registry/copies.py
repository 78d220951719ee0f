"""The model copies a register logs (tagged :data:`COPY_TAGS`), deleted when no version uses them.

See docs/decisions/promotion-lock.md.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

logger = logging.getLogger(__name__)

COPY_TAGS = {"mnist_mlops.logged_by": "register"}


def remove_unregistered_copies(client: MlflowClient, run_id: str) -> list[str]:
    """Delete the register's copies of run ``run_id`` that no version uses (files, then model).

    Other logged models of the run are never touched. Returns the ids deleted.

    Raises:
        MlflowException: The store cannot be read or written.
    """
    from mlflow.exceptions import MlflowException
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    experiment_id = client.get_run(run_id).info.experiment_id
    copies = client.search_logged_models(
        experiment_ids=[experiment_id], filter_string=f"source_run_id = '{run_id}'"
    )
    versions = client.search_model_versions(f"run_id = '{run_id}'")
    used = {model_id for version in versions for model_id in _model_ids(version)}
    removed = []
    for copy in copies:
        tags = copy.tags or {}
        if (
            copy.model_id in used
            or "mlflow.modelVersions" in tags
            or not COPY_TAGS.items() <= tags.items()
        ):
            continue
        try:
            get_artifact_repository(copy.artifact_location).delete_artifacts()
        except (OSError, MlflowException) as exc:  # e.g. a store it cannot write to, a proxy's 5xx
            logger.warning(
                "kept model copy %s: its files could not be deleted: %s", copy.model_id, exc
            )
            continue
        client.delete_logged_model(copy.model_id)
        removed.append(copy.model_id)
    if removed:
        logger.warning("deleted %d unregistered model copies of run %s", len(removed), run_id)
    return removed


def _model_ids(version: ModelVersion) -> set[str]:
    """The logged model a version was registered from: its ``model_id``, or its ``models:/`` source.

    A tracking server's REST answer leaves ``model_id`` empty (MLflow 3.17); the source names it.
    """
    ids = {version.model_id} if version.model_id else set()
    source = version.source or ""
    if source.startswith("models:/m-"):
        ids.add(source.removeprefix("models:/").split("/")[0])
    return ids
