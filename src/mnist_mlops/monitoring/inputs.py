"""Input statistics of digits: ink (mean pixel) and the centre of mass of the ink."""

from __future__ import annotations

import numpy as np

from mnist_mlops.config.constants import IMAGE_SIDE, MAX_PIXEL

INPUT_STATISTICS = ("ink", "centre_row", "centre_column")


def input_statistics(pixels: np.ndarray) -> dict[str, np.ndarray]:
    """Return each digit's ink and centre of mass (rows and columns, 0-27).

    Args:
        pixels: ``(N, 784)`` or ``(N, 28, 28)`` digits: uint8 0-255, or floats in [0, 1].

    Returns:
        ``{"ink": (N,), "centre_row": (N,), "centre_column": (N,)}``: ink is the mean pixel in
        [0, 1]; a blank digit's centre is the image's (13.5).
    """
    pixels = np.asarray(pixels)
    images = pixels.astype(np.float64).reshape(-1, IMAGE_SIDE, IMAGE_SIDE)
    if pixels.dtype == np.uint8:
        images /= MAX_PIXEL
    mass = images.sum(axis=(1, 2))
    safe = np.where(mass > 0, mass, 1.0)
    positions = np.arange(IMAGE_SIDE, dtype=np.float64)
    middle = (IMAGE_SIDE - 1) / 2
    rows = np.where(mass > 0, (images.sum(axis=2) @ positions) / safe, middle)
    columns = np.where(mass > 0, (images.sum(axis=1) @ positions) / safe, middle)
    return {"ink": images.mean(axis=(1, 2)), "centre_row": rows, "centre_column": columns}
