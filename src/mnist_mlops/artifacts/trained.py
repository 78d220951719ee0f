"""``models/trained/``: the train stage's ``model.keras`` and ``history.json`` (per-epoch metrics).

The same weights give the same bytes (see docs/decisions/deterministic-model-files.md).
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
KERAS_METADATA, KERAS_CONFIG = "metadata.json", "config.json"  # members of a .keras zip
UNSTAMPED_KEYS = ("date_saved",)  # left out of the metadata
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

    Entries are stamped with :data:`ZIP_EPOCH` and stored uncompressed, the save date is left
    out and shared objects are numbered 1, 2, ... in order of appearance.
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


def save_trained(
    model: keras.Model, history: Mapping[str, list[float]], out_dir: str | Path
) -> None:
    """Write ``model.keras`` and ``history.json`` into ``out_dir``, atomically."""
    with atomic_directory(out_dir) as folder:
        atomic_write_bytes(folder / MODEL_FILE, keras_bytes(model))
        write_json(folder / HISTORY_FILE, dict(history))
    logger.info("wrote %s", out_dir)


def load_model(folder: str | Path, compile: bool = True) -> keras.Model:
    """Load ``model.keras`` of the train stage's output ``folder``.

    Raises:
        MissingArtifactError: The file is missing (the train stage has not run).
    """
    import keras

    folder = Path(folder)
    _require(folder, MODEL_FILE)
    return keras.models.load_model(folder / MODEL_FILE, compile=compile)


def load_trained(folder: str | Path) -> TrainedModel:
    """Load the model and history from the train stage's output ``folder``.

    Raises:
        MissingArtifactError: A file is missing (the train stage has not run).
    """
    folder = Path(folder)
    _require(folder, MODEL_FILE, HISTORY_FILE)
    return TrainedModel(model=load_model(folder), history=read_json(folder / HISTORY_FILE))
