"""Read digits from files: PNG/JPEG images and ``.npy`` / ``.csv`` batches."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mnist_mlops.errors import InputError
from mnist_mlops.serving.pictures.images import read_digit_image
from mnist_mlops.serving.runtime.inputs import to_pixel_rows

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
BATCH_SUFFIXES = (".npy", ".csv")


def read_image(path: Path) -> np.ndarray:
    """Return one image file as the normalised ``(28, 28)`` uint8 the model sees."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: not a readable image: {exc}") from None
    return read_digit_image(data, str(path))


def read_csv(path: Path) -> np.ndarray:
    """Return the numeric rows of a CSV file (a header line, if any, is skipped)."""
    with open(path, encoding="utf-8") as handle:
        first = handle.readline()
    try:
        [float(token) for token in first.strip().split(",")]
        skip = 0
    except ValueError:
        skip = 1
    try:
        return np.loadtxt(path, delimiter=",", skiprows=skip, ndmin=2, dtype=np.float32)
    except ValueError as exc:
        raise InputError(f"{path}: not a CSV of numbers: {exc}") from None


def read_digits(path: str | Path) -> np.ndarray:
    """Return the digits of one file as :func:`to_pixel_rows` (pictures in MNIST's form).

    Raises:
        InputError: Unknown file type, unreadable file or invalid values (naming the file).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    if suffix in IMAGE_SUFFIXES:
        values = read_image(path)
    elif suffix == ".npy":
        try:
            values = np.load(path, allow_pickle=False)
        except ValueError as exc:
            raise InputError(f"{path}: not a numeric .npy array: {exc}") from None
    elif suffix == ".csv":
        values = read_csv(path)
    else:
        allowed = ", ".join(IMAGE_SUFFIXES + BATCH_SUFFIXES)
        raise InputError(f"{path}: unsupported file type {suffix!r}; allowed: {allowed}")
    try:
        return to_pixel_rows(values, max_rows=None)
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None
