"""The scores of a promotion: a model's current champion, and a pyfunc's answers on splits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mnist_mlops.artifacts.processed import Split
from mnist_mlops.config.constants import CHAMPION
from mnist_mlops.registry.promotion import Champion, known_source
from mnist_mlops.serving.runtime.predictions import DIGIT_COLUMN, PROBABILITY_COLUMNS
from mnist_mlops.tracking.provenance import SOURCE_TAG


@dataclass(frozen=True)
class Answers:
    """A model's answer to each digit of a split: the ``digits`` and their ``confidence``."""

    digits: np.ndarray
    confidence: np.ndarray

    def accuracy(self, labels: np.ndarray) -> float:
        """The share of answers equal to ``labels``."""
        return float((self.digits == labels).mean()) if len(labels) else float("nan")


def answers(model_uri: str, splits: Sequence[Split]) -> list[Answers]:
    """Return the pyfunc at ``model_uri``'s answers to each of ``splits`` (one load)."""
    import mlflow.pyfunc

    model = mlflow.pyfunc.load_model(model_uri)
    found = []
    for split in splits:
        frame = model.predict(split.x)
        probabilities = frame.loc[:, list(PROBABILITY_COLUMNS)].to_numpy()
        found.append(Answers(frame[DIGIT_COLUMN].to_numpy(), probabilities.max(axis=1)))
    return found


def current_champion(name: str) -> Champion | None:
    """Return ``name``'s ``champion`` version and data source (``None``: unknown), or ``None``.

    Raises:
        MlflowException: Any other registry failure (never taken for "no champion").
    """
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    try:
        version = MlflowClient().get_model_version_by_alias(name, CHAMPION)
    except MlflowException as exc:
        if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None
        raise
    return Champion(
        version=str(version.version), source=known_source((version.tags or {}).get(SOURCE_TAG))
    )
