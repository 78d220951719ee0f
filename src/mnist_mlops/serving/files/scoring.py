"""``mnist-mlops predict``: score image, ``.npy`` and ``.csv`` files and folders of them."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mnist_mlops.errors import InputError
from mnist_mlops.serving.files.reading import BATCH_SUFFIXES, IMAGE_SUFFIXES, read_digits
from mnist_mlops.serving.runtime.fast_model import load_classifier
from mnist_mlops.serving.runtime.predictions import (
    PROBABILITY_COLUMNS,
    digit_frame,
    probabilities_of,
)

if TYPE_CHECKING:
    import pandas as pd

SCORE_BATCH = 1000  # digits per call of the model (a progress step)
DIGIT_SUFFIXES = IMAGE_SUFFIXES + BATCH_SUFFIXES


@dataclass(frozen=True)
class Scored:
    """The predictions (one row per digit) and the files skipped, each with its reason."""

    frame: pd.DataFrame
    skipped: list[str]  # "<file>: <reason>", in the order the files were read


def digit_files(paths: list[Path]) -> list[Path]:
    """Return each file as given and each folder's digit files (subfolders, not hidden), sorted.

    Raises:
        InputError: A folder holds no digit file.
    """
    files: list[Path] = []
    for path in paths:
        if not path.is_dir():
            files.append(path)
            continue
        found = sorted(
            item
            for item in path.rglob("*")
            if item.is_file()
            and item.suffix.lower() in DIGIT_SUFFIXES
            and not any(part.startswith(".") for part in item.relative_to(path).parts)
        )
        if not found:
            raise InputError(
                f"{path}: folder holds no digit files; allowed: {', '.join(DIGIT_SUFFIXES)}"
            )
        files.extend(found)
    return files


def _read_all(
    files: list[Path], strict: bool, progress: bool
) -> tuple[list[Path], list[np.ndarray], list[str]]:
    """Read every file: the files read, their digits, and ``"<file>: <reason>"`` per skip."""
    from tqdm import tqdm

    read, batches, skipped = [], [], []
    for path in tqdm(files, desc="reading", unit="file", file=sys.stderr, disable=not progress):
        try:
            batches.append(read_digits(path))
        except InputError as exc:
            if strict:
                raise
            skipped.append(str(exc))
            continue
        read.append(path)
    if not read:
        raise InputError("nothing could be scored: " + "; ".join(skipped))
    return read, batches, skipped


def predict_files(
    model_uri: str,
    paths: list[Path],
    tracking_uri: str | None = None,
    progress: bool = False,
    strict: bool = False,
) -> Scored:
    """Score every readable digit of ``paths``: file, index, digit, confidence, probabilities.

    Every file is read before the model loads; one that cannot be read or holds no digit is
    skipped with its reason (``strict``: fails the call). ``progress``: bars on stderr.

    Raises:
        InputError: No file could be scored (naming each one and why), a folder holds no
            digit file, or (``strict``) one file cannot be scored.
        ModelLoadError: The model cannot be loaded.
    """
    from tqdm import tqdm

    files, batches, skipped = _read_all(digit_files(paths), strict, progress)
    model = load_classifier(model_uri, tracking_uri)
    rows = np.concatenate(batches)
    probabilities = np.empty((len(rows), len(PROBABILITY_COLUMNS)), dtype=np.float32)
    with tqdm(
        total=len(rows), desc="scoring", unit="digit", file=sys.stderr, disable=not progress
    ) as scored:
        for start in range(0, len(rows), SCORE_BATCH):
            chunk = rows[start : start + SCORE_BATCH]
            probabilities[start : start + len(chunk)] = probabilities_of(model.predict(chunk))
            scored.update(len(chunk))
    frame = digit_frame(probabilities)
    frame.insert(1, "confidence", probabilities.max(axis=1))
    frame.insert(0, "index", np.concatenate([np.arange(len(batch)) for batch in batches]))
    frame.insert(0, "file", np.repeat([str(path) for path in files], [len(b) for b in batches]))
    return Scored(frame, skipped)
