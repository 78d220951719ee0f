"""``models/trained/``: the train stage's model, MLflow run info and history.

Files: ``model.keras``, ``run.json`` (:class:`TrainedRunInfo`) and ``history.json`` (per-epoch
``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``). Later stages (evaluate, register) log
into and refer to the same MLflow run through ``run.json``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mnist_mlops.artifacts.base import JsonArtifact
from mnist_mlops.errors import MissingArtifactError
from mnist_mlops.io import atomic_directory, read_json, write_json

if TYPE_CHECKING:
    import keras

logger = logging.getLogger(__name__)

MODEL_FILE, RUN_FILE, HISTORY_FILE = "model.keras", "run.json", "history.json"


class TrainedRunInfo(JsonArtifact):
    """``run.json``: the MLflow training run of the trained model.

    Attributes:
        run_id: The training run.
        experiment_id: Its experiment's id.
        experiment: Its experiment's name.
        model_uri: The Keras model logged in it (``""`` when not logged).
    """

    PRODUCER = "train"

    run_id: str
    experiment_id: str
    experiment: str
    model_uri: str = ""


@dataclass
class TrainedModel:
    """The train stage's output, loaded: the model, its run info and its history."""

    model: keras.Model
    run: TrainedRunInfo
    history: dict[str, list[float]]


def _require(folder: Path, *names: str) -> None:
    for name in names:
        if not (folder / name).is_file():
            raise MissingArtifactError(f"{folder / name} not found; run the train stage first")


def save_trained(
    model: keras.Model,
    history: Mapping[str, list[float]],
    run: TrainedRunInfo,
    out_dir: str | Path,
) -> None:
    """Write ``model.keras``, ``run.json`` and ``history.json`` into ``out_dir`` atomically.

    Args:
        model: The trained model.
        history: Its per-epoch history.
        run: The MLflow training run.
        out_dir: The stage's output folder (replaced only when everything was written).
    """
    with atomic_directory(out_dir) as folder:
        model.save(folder / MODEL_FILE)
        run.write(folder / RUN_FILE)
        write_json(folder / HISTORY_FILE, dict(history))
    logger.info("wrote %s", out_dir)


def load_run_info(folder: str | Path) -> TrainedRunInfo:
    """Read ``run.json`` of the train stage's output folder."""
    return TrainedRunInfo.read(Path(folder) / RUN_FILE)


def load_model(folder: str | Path, compile: bool = True) -> keras.Model:
    """Load ``model.keras`` of the train stage's output folder.

    Raises:
        MissingArtifactError: The file is missing (the train stage has not run).
    """
    import keras

    folder = Path(folder)
    _require(folder, MODEL_FILE)
    return keras.models.load_model(folder / MODEL_FILE, compile=compile)


def load_trained(folder: str | Path) -> TrainedModel:
    """Load the model, run info and history from the train stage's output folder.

    Raises:
        MissingArtifactError: A file is missing (the train stage has not run).
    """
    folder = Path(folder)
    _require(folder, MODEL_FILE, RUN_FILE, HISTORY_FILE)
    return TrainedModel(
        model=load_model(folder),
        run=load_run_info(folder),
        history=read_json(folder / HISTORY_FILE),
    )
