"""``data/processed/``: the preprocess stage's split arrays and ``meta.json``."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict

from mnist_mlops.artifacts.base import FolderFileArtifact
from mnist_mlops.errors import MissingArtifactError

SPLITS = ("train", "val", "test")
FEEDBACK_TEST = "feedback_test"  # the labelled feedback kept apart (only when feedback is used)
META_FILE = "meta.json"


@dataclass(frozen=True)
class Split:
    """One split: ``x`` (N, 784) float32 in [0, 1] and ``y`` (N,) int32 labels."""

    x: np.ndarray
    y: np.ndarray


class FeedbackUsed(BaseModel):
    """The feedback snapshot in the splits: its ``sha256``, pictures trained on / kept apart."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sha256: str
    train: int
    test: int


class ProcessedMeta(FolderFileArtifact):
    """``meta.json``: the raw ``source``, whether ``test`` is its own split, counts, the seed.

    ``feedback``: the snapshot added to ``train`` and kept apart as ``feedback_test`` (left out
    of the file when no feedback was used).
    """

    FILE_NAME = META_FILE
    PRODUCER = "preprocess"
    OMIT_NONE = True

    source: str
    official_test_split: bool
    counts: dict[str, int]
    seed: int
    feedback: FeedbackUsed | None = None


def split_files(folder: str | Path, name: str) -> tuple[Path, Path]:
    """Return the ``(x, y)`` file paths of split ``name`` in ``folder``."""
    folder = Path(folder)
    return folder / f"{name}_x.npy", folder / f"{name}_y.npy"


def save_splits(splits: Mapping[str, Split], folder: str | Path) -> None:
    """Write ``{split}_x.npy`` and ``{split}_y.npy`` (deterministic bytes)."""
    for name, split in splits.items():
        x_path, y_path = split_files(folder, name)
        np.save(x_path, split.x, allow_pickle=False)
        np.save(y_path, split.y, allow_pickle=False)


def load_splits(folder: str | Path, names: tuple[str, ...] = SPLITS) -> dict[str, Split]:
    """Load the splits ``names`` written by :func:`save_splits`.

    Raises:
        MissingArtifactError: A split file is missing (the preprocess stage has not run).
    """
    splits = {}
    for name in names:
        x_path, y_path = split_files(folder, name)
        if not x_path.is_file() or not y_path.is_file():
            raise MissingArtifactError(
                f"{x_path} or {y_path} not found; run the preprocess stage first"
            )
        splits[name] = Split(np.load(x_path), np.load(y_path))
    return splits


def load_feedback_test(folder: str | Path) -> Split | None:
    """The ``feedback_test`` split of ``folder``, or ``None`` when no feedback was used."""
    x_path, _ = split_files(folder, FEEDBACK_TEST)
    return load_splits(folder, (FEEDBACK_TEST,))[FEEDBACK_TEST] if x_path.is_file() else None


def processed_hash(folder: str | Path) -> str | None:
    """SHA-256 over the split files (name and bytes), or ``None`` when there are none."""
    files = sorted(Path(folder).glob("*.npy"))
    if not files:
        return None
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
