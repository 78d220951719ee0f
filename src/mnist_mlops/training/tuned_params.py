"""Tune's best params laid over the ``model`` / ``train`` sections for the train stage.

The tune stage's :class:`~mnist_mlops.artifacts.best_params.BestParams` overrides only the
values it holds (:meth:`BestParams.apply`); anything else keeps its ``params.yaml`` value.
"""

from __future__ import annotations

from pathlib import Path

from mnist_mlops.artifacts.best_params import BestParams
from mnist_mlops.config.params import ModelConfig, TrainConfig
from mnist_mlops.errors import MissingArtifactError

UNTUNED_TAGS = {"tuned": "false"}


def resolve_training_params(
    model: ModelConfig, train: TrainConfig, best_params_path: str | Path
) -> tuple[ModelConfig, TrainConfig, dict[str, str]]:
    """Lay tune's best params over ``model`` / ``train`` when ``train.use_tuned`` is true.

    Args:
        model: The ``model`` section.
        train: The ``train`` section.
        best_params_path: The tune stage's best params (``ProjectPaths.best_params``).

    Returns:
        The sections to train with and the MLflow tags that say whether they were tuned.

    Raises:
        MissingArtifactError: ``train.use_tuned`` is true but the file does not exist.
        DataError: The file is not a valid best params file.
    """
    if not train.use_tuned:
        return model, train, dict(UNTUNED_TAGS)
    if not Path(best_params_path).is_file():
        raise MissingArtifactError(
            f"{best_params_path} not found: run the tune stage (tune.n_trials: 0 writes a "
            "'skipped' file) or set train.use_tuned: false"
        )
    best = BestParams.read(best_params_path)
    model, train = best.apply(model, train)
    if best.skipped:
        return model, train, dict(UNTUNED_TAGS)
    return (
        model,
        train,
        {"tuned": "true", "tuned.study": str(best.study), "tuned.trial": str(best.trial)},
    )
