"""The tuned-parameters file that the ``tune`` stage writes and the ``train`` stage reads.

Format of ``tuning/best_params.json``::

    {"skipped": false, "study": "mnist-mlp", "trial": 7, "value": 0.93,
     "model": {"hidden_layers": [256], "activation": "relu", "dropout": 0.1},
     "train": {"epochs": 4, "batch_size": 128,
               "optimizer": {"name": "adam", "learning_rate": 0.002}}}

``{"skipped": true, ...}`` (``tune.n_trials: 0``) means: keep the ``model:`` / ``train:`` params.
Only the keys present override the params; anything else keeps its ``params.yaml`` value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mnist_mlops.config import ModelConfig, TrainConfig
from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.io import read_json, write_json

BEST_PARAMS_PATH = Path("tuning/best_params.json")


def write_best_params(path: str | Path, best: dict[str, Any]) -> None:
    """Atomically write the tuned parameters (see the module docstring for the format)."""
    write_json(path, best)


def apply_best_params(
    model: ModelConfig, train: TrainConfig, best: dict[str, Any]
) -> tuple[ModelConfig, TrainConfig]:
    """Return ``model`` and ``train`` with the tuned values laid over them (re-validated).

    Args:
        model: The ``model`` section.
        train: The ``train`` section.
        best: The content of ``best_params.json``.

    Returns:
        The updated sections; unchanged when ``best["skipped"]`` is true.
    """
    if best.get("skipped", False):
        return model, train
    model_values = model.model_dump() | best.get("model", {})
    train_values = train.model_dump()
    tuned_train = dict(best.get("train", {}))
    optimizer = train_values["optimizer"] | tuned_train.pop("optimizer", {})
    train_values |= tuned_train | {"optimizer": optimizer}
    return ModelConfig.model_validate(model_values), TrainConfig.model_validate(train_values)


def load_best_params(path: str | Path = BEST_PARAMS_PATH) -> dict[str, Any]:
    """Read ``best_params.json``."""
    return read_json(path)


def resolve_training_params(
    model: ModelConfig, train: TrainConfig, best_params_path: str | Path = BEST_PARAMS_PATH
) -> tuple[ModelConfig, TrainConfig, dict[str, str]]:
    """Lay tune's best params over ``model`` / ``train`` when ``train.use_tuned`` is true.

    Args:
        model: The ``model`` section.
        train: The ``train`` section.
        best_params_path: The tune stage's ``best_params.json``.

    Returns:
        The sections to train with and the MLflow tags that say whether they were tuned.

    Raises:
        MnistMlopsError: ``train.use_tuned`` is true but the file does not exist.
    """
    if not train.use_tuned:
        return model, train, {"tuned": "false"}
    if not Path(best_params_path).is_file():
        raise MnistMlopsError(
            f"{best_params_path} not found: run the tune stage (tune.n_trials: 0 writes a "
            "'skipped' file) or set train.use_tuned: false"
        )
    best = load_best_params(best_params_path)
    model, train = apply_best_params(model, train, best)
    if best.get("skipped", False):
        return model, train, {"tuned": "false"}
    return (
        model,
        train,
        {
            "tuned": "true",
            "tuned.study": str(best.get("study")),
            "tuned.trial": str(best.get("trial")),
        },
    )
