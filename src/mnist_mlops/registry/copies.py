"""The model copies a register logs (tagged :data:`COPY_TAGS`), deleted when no version uses them.

See docs/decisions/promotion-lock.md.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlflow import MlflowClient

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
    used = {version.model_id for version in client.search_model_versions(f"run_id = '{run_id}'")}
    removed = []
    for copy in copies:
        if copy.model_id in used or not COPY_TAGS.items() <= (copy.tags or {}).items():
            continue
        try:
            get_artifact_repository(copy.artifact_location).delete_artifacts()
        except (OSError, MlflowException) as exc:  # e.g. a store it cannot write to, a proxy's 5xx
            logger.warning("could not delete the files of %s: %s", copy.model_id, exc)
        client.delete_logged_model(copy.model_id)
        removed.append(copy.model_id)
    if removed:
        logger.warning("deleted %d unregistered model copies of run %s", len(removed), run_id)
    return removed
