"""The two scores of a promotion: the current champion of a model, and a model's accuracy.

Both models are scored on the same (current) test split, with the registered pyfunc
classifier (what serving answers), so the comparison holds even when the split changed since
the champion was registered.
"""

from __future__ import annotations

from mnist_mlops.artifacts.processed import Split
from mnist_mlops.config.constants import CHAMPION
from mnist_mlops.registry.promotion import Champion, known_source
from mnist_mlops.serving.runtime.predictions import DIGIT_COLUMN
from mnist_mlops.tracking.provenance import SOURCE_TAG


def score(model_uri: str, split: Split) -> float:
    """Return the accuracy of the pyfunc classifier at ``model_uri`` on ``split``.

    Args:
        model_uri: A logged or registered classifier (``runs:/...``, ``models:/name/3``).
        split: The digits and their labels.

    Returns:
        The share of digits it classifies correctly.
    """
    import mlflow.pyfunc

    model = mlflow.pyfunc.load_model(model_uri)
    digits = model.predict(split.x)[DIGIT_COLUMN].to_numpy()
    return float((digits == split.y).mean())


def current_champion(name: str) -> Champion | None:
    """Return the version holding the ``champion`` alias of ``name`` and its data source.

    Args:
        name: The registered model.

    Returns:
        The champion (its ``source`` is ``None`` when the version has no usable
        ``data.source`` tag), or ``None`` when ``name`` has no champion.

    Raises:
        MlflowException: The registry failed otherwise (a server error, a locked database):
            that must not be mistaken for "no champion", or the alias would move to a worse
            model.
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
