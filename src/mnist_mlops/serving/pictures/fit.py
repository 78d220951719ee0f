"""Fit a digit's ink into MNIST's 28x28 frame (docs/decisions/serving-digit-normalisation.md)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from mnist_mlops.config.constants import DIGIT_BOX, IMAGE_SIDE, MAX_PIXEL, MNIST_CENTRE
from mnist_mlops.serving.pictures.resample import resize

CROSS = ndimage.generate_binary_structure(2, 1)  # a pixel and its 4 neighbours


@dataclass(frozen=True)
class Fitted:
    """The ``(28, 28)`` uint8 digit."""

    image: np.ndarray


def stroke_width(ink: np.ndarray) -> float:
    """Return the typical stroke width, in pixels, of ``ink`` in [0, 1] (0.0: none above 0.5).

    Twice the strokes' area over their outline (2 for lines one or two pixels wide).
    """
    mask = ink > 0.5
    if not mask.any():
        return 0.0
    outline = mask & ~ndimage.binary_erosion(mask, CROSS)
    return 2 * float(mask.sum()) / float(outline.sum())


def _trimmed(ink: np.ndarray) -> np.ndarray:
    """The box of ``ink``'s non-zero pixels."""
    rows, columns = np.nonzero(ink > 0)
    return ink[rows.min() : rows.max() + 1, columns.min() : columns.max() + 1]


def _normalise_strokes(crop: np.ndarray, width: float, target: float) -> np.ndarray:
    """Thicken or thin strokes ``width`` crop pixels wide by whole pixels to ``target`` output."""
    longest, share = max(crop.shape), target / DIGIT_BOX
    steps = -round((width - share * longest) / (2 * (1 - share)))  # > 0 thickens
    if steps > 0:
        crop = np.pad(crop, steps)
        for _ in range(steps):
            crop = ndimage.grey_dilation(crop, footprint=CROSS, mode="constant")
        return crop
    for _ in range(-steps):
        thinner = ndimage.grey_erosion(crop, footprint=CROSS, mode="constant")
        if not (thinner > 0.5).any():
            break
        crop = thinner
    return crop


def fit_digit(ink: np.ndarray, target_stroke: float | None = None) -> Fitted:
    """Scale ``ink`` (in [0, 1], zero outside the digit) into a 20x20 box centred by mass in 28x28.

    ``target_stroke``: when given, the strokes' output width is brought close to it.
    """
    crop = _trimmed(ink)
    if target_stroke is not None:
        crop = _trimmed(_normalise_strokes(crop, stroke_width(crop), target_stroke))
    scale = DIGIT_BOX / max(crop.shape)
    size = (max(1, round(crop.shape[0] * scale)), max(1, round(crop.shape[1] * scale)))
    patch = np.clip(resize(crop, size), 0, 1)
    centre = ndimage.center_of_mass(patch)
    top = round(MNIST_CENTRE[0] - centre[0])
    left = round(MNIST_CENTRE[1] - centre[1])
    canvas = np.zeros((IMAGE_SIDE, IMAGE_SIDE), dtype=np.float32)
    rows_in = slice(max(0, -top), min(size[0], IMAGE_SIDE - top))
    columns_in = slice(max(0, -left), min(size[1], IMAGE_SIDE - left))
    canvas[
        rows_in.start + top : rows_in.stop + top, columns_in.start + left : columns_in.stop + left
    ] = patch[rows_in, columns_in]
    return Fitted(np.rint(canvas * MAX_PIXEL).astype(np.uint8))
