"""The two scores of a promotion: a model's current champion, and a pyfunc's test accuracy."""

from __future__ import annotations

from mnist_mlops.artifacts.processed import Split
from mnist_mlops.config.constants import CHAMPION
from mnist_mlops.registry.promotion import Champion, known_source
from mnist_mlops.serving.runtime.predictions import DIGIT_COLUMN
from mnist_mlops.tracking.provenance import SOURCE_TAG


def score(model_uri: str, split: Split) -> float:
    """Return the share of ``split``'s digits the pyfunc at ``model_uri`` classifies right."""
    import mlflow.pyfunc

    model = mlflow.pyfunc.load_model(model_uri)
    digits = model.predict(split.x)[DIGIT_COLUMN].to_numpy()
    return float((digits == split.y).mean())


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
