"""The train stage's output folder ``models/trained/`` (model, run ids, history).

Files: ``model.keras``, ``run.json`` and ``history.json``.
``run.json`` holds ``{"run_id", "experiment_id", "experiment", "model_uri"}`` of the MLflow
training run, so that later stages (evaluate, register) log into and refer to the same run.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.io import atomic_directory, read_json, write_json

if TYPE_CHECKING:
    import keras

logger = logging.getLogger(__name__)

TRAINED_DIR = Path("models/trained")
MODEL_FILE, RUN_FILE, HISTORY_FILE = "model.keras", "run.json", "history.json"


def save_trained(
    model: keras.Model,
    history: Mapping[str, list[float]],
    run_info: Mapping[str, str],
    out_dir: str | Path = TRAINED_DIR,
) -> None:
    """Write ``model.keras``, ``run.json`` and ``history.json`` into ``out_dir`` atomically.

    Args:
        model: The trained model.
        history: Its per-epoch history.
        run_info: ``run_id``, ``experiment_id``, ``experiment`` and ``model_uri`` of the run.
        out_dir: The stage's output folder.
    """
    with atomic_directory(out_dir) as folder:
        model.save(folder / MODEL_FILE)
        write_json(folder / RUN_FILE, dict(run_info))
        write_json(folder / HISTORY_FILE, dict(history))
    logger.info("wrote %s", out_dir)


def load_trained(folder: str | Path = TRAINED_DIR) -> tuple[keras.Model, dict, dict]:
    """Load ``(model, run, history)`` from the train stage's output folder.

    Raises:
        MnistMlopsError: A file is missing (the train stage has not run).
    """
    import keras

    folder = Path(folder)
    for name in (MODEL_FILE, RUN_FILE, HISTORY_FILE):
        if not (folder / name).is_file():
            raise MnistMlopsError(f"{folder / name} not found; run the train stage first")
    model = keras.models.load_model(folder / MODEL_FILE)
    return model, read_json(folder / RUN_FILE), read_json(folder / HISTORY_FILE)
