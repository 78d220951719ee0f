"""``models/trained/``: the train stage's model and history.

Files: ``model.keras`` and ``history.json`` (per-epoch ``loss``, ``accuracy``, ``val_loss``,
``val_accuracy``). Both are functions of the weights and the fit alone: the same weights give
the same bytes (:func:`save_keras_model`), so the folder's DVC hash does not change when a
re-train reproduces them. The MLflow run is recorded apart, in ``runs/train.json``
(:class:`~mnist_mlops.artifacts.runs.TrainedRunInfo`), which evaluate and register read to
log into it.
"""

from __future__ import annotations

import io
import json
import logging
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mnist_mlops.errors import MissingArtifactError
from mnist_mlops.io import atomic_directory, atomic_write_bytes, read_json, write_json

if TYPE_CHECKING:
    import keras

logger = logging.getLogger(__name__)

MODEL_FILE, HISTORY_FILE = "model.keras", "history.json"
KERAS_METADATA = "metadata.json"  # Keras' member of a .keras zip (version and save date)
UNSTAMPED_KEYS = ("date_saved",)  # left out of it: they make every save's bytes differ
KERAS_CONFIG = "config.json"  # the model's config, which numbers shared objects by id()
SHARED_ID_KEY = "shared_object_id"
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold


@dataclass
class TrainedModel:
    """The train stage's output, loaded: the model and its history."""

    model: keras.Model
    history: dict[str, list[float]]


def _require(folder: Path, *names: str) -> None:
    for name in names:
        if not (folder / name).is_file():
            raise MissingArtifactError(f"{folder / name} not found; run the train stage first")


def keras_bytes(model: keras.Model) -> bytes:
    """Return ``model`` as a ``.keras`` file whose bytes depend only on the model.

    Keras writes its zip with the current time on every entry, the save date in
    ``metadata.json`` and, in ``config.json``, the memory addresses of shared objects as their
    ``shared_object_id``. Here every entry gets the zip epoch, a fixed mode and no
    compression, in Keras' order; the date is left out (Keras does not read it back) and the
    shared objects are numbered 1, 2, ... in order of appearance (Keras only matches the
    numbers with each other).
    """
    with tempfile.TemporaryDirectory() as folder:
        saved = Path(folder) / MODEL_FILE
        model.save(saved)
        raw = saved.read_bytes()
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(raw)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf,
    ):
        for name in source.namelist():
            data = source.read(name)
            if name == KERAS_METADATA:
                metadata = json.loads(data)
                for key in UNSTAMPED_KEYS:
                    metadata.pop(key, None)
                data = json.dumps(metadata, sort_keys=True).encode()
            elif name == KERAS_CONFIG:
                data = json.dumps(_renumber_shared(json.loads(data), {})).encode()
            entry = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            entry.external_attr = 0o644 << 16
            zf.writestr(entry, data)
    return out.getvalue()


def _renumber_shared(value: Any, numbers: dict[Any, int]) -> Any:
    """Return ``value`` with every ``shared_object_id`` replaced by its order of appearance."""
    if isinstance(value, dict):
        renumbered = {}
        for key, item in value.items():
            if key == SHARED_ID_KEY:
                renumbered[key] = numbers.setdefault(item, len(numbers) + 1)
            else:
                renumbered[key] = _renumber_shared(item, numbers)
        return renumbered
    if isinstance(value, list):
        return [_renumber_shared(item, numbers) for item in value]
    return value


def save_keras_model(model: keras.Model, path: str | Path) -> None:
    """Write ``model`` to ``path`` (a ``.keras`` file) atomically, see :func:`keras_bytes`."""
    atomic_write_bytes(path, keras_bytes(model))


def save_trained(
    model: keras.Model, history: Mapping[str, list[float]], out_dir: str | Path
) -> None:
    """Write ``model.keras`` and ``history.json`` into ``out_dir`` atomically.

    Args:
        model: The trained model.
        history: Its per-epoch history.
        out_dir: The stage's output folder (replaced only when everything was written).
    """
    with atomic_directory(out_dir) as folder:
        save_keras_model(model, folder / MODEL_FILE)
        write_json(folder / HISTORY_FILE, dict(history))
    logger.info("wrote %s", out_dir)


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
    """Load the model and history from the train stage's output folder.

    Raises:
        MissingArtifactError: A file is missing (the train stage has not run).
    """
    folder = Path(folder)
    _require(folder, MODEL_FILE, HISTORY_FILE)
    return TrainedModel(model=load_model(folder), history=read_json(folder / HISTORY_FILE))
