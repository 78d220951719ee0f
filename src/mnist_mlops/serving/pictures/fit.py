"""Fit a digit's ink into MNIST's frame, as MNIST was made.

:func:`fit_digit` crops to the ink, scales its longer side to
:data:`~mnist_mlops.config.constants.DIGIT_BOX` pixels (anti-aliased, aspect ratio kept) and
shifts it by whole pixels so that its centre of mass lands on
:data:`~mnist_mlops.config.constants.MNIST_CENTRE` of a 28x28 frame; an MNIST digit given as
it is comes back at most re-centred.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from mnist_mlops.config.constants import DIGIT_BOX, IMAGE_SIDE, MAX_PIXEL, MNIST_CENTRE
from mnist_mlops.serving.pictures.resample import resize

CROSS = ndimage.generate_binary_structure(2, 1)  # a pixel and its 4 neighbours


@dataclass(frozen=True)
class Fitted:
    """The ``(28, 28)`` uint8 digit and the geometry that made it."""

    image: np.ndarray
    box: tuple[int, int, int, int]  # (top, left, bottom, right) of the ink, working pixels
    scale: float  # output pixels per working pixel
    shift: tuple[int, int]  # (rows, columns) where the scaled ink's top-left corner went
    stroke_width: float  # of the ink, in output pixels, before any stroke normalisation


def stroke_width(ink: np.ndarray) -> float:
    """Return the typical stroke width of ``ink`` (bright on black) in its own pixels.

    Twice the strokes' area over their outline: a bar ``w`` pixels wide and ``L`` long has
    ``w L`` pixels, about ``2 L`` of them on its outline, so the ratio is ``w`` (and 2 for
    lines one or two pixels wide, whose pixels are all outline).

    Args:
        ink: A 2-D array of ink strength in [0, 1].

    Returns:
        The width (0.0 when there is no ink above half strength).
    """
    mask = ink > 0.5
    if not mask.any():
        return 0.0
    outline = mask & ~ndimage.binary_erosion(mask, CROSS)
    return 2 * float(mask.sum()) / float(outline.sum())


def _normalise_strokes(crop: np.ndarray, width: float, target: float) -> np.ndarray:
    """Thicken or thin the strokes by whole pixels so that, once scaled, they are ``target``.

    ``width`` is in the crop's pixels, ``target`` in output pixels. Each step grows (or wears)
    the strokes by one pixel on each side, so the digit's longer side ``L`` changes too: after
    ``k`` steps of wear the scaled width is ``(width - 2k) * DIGIT_BOX / (L - 2k)``, which
    gives ``k``.
    """
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
    """Scale and centre ink into MNIST's ``(28, 28)`` frame.

    Args:
        ink: A 2-D float array of ink strength in [0, 1], zero outside the digit.
        target_stroke: When given, thicken or thin the strokes (by whole working pixels) so
            that their width in the output comes close to this many pixels.

    Returns:
        The fitted digit.
    """
    rows, columns = np.nonzero(ink > 0)
    box = (int(rows.min()), int(columns.min()), int(rows.max()) + 1, int(columns.max()) + 1)
    crop = ink[box[0] : box[2], box[1] : box[3]]
    scale = DIGIT_BOX / max(crop.shape)
    width = stroke_width(crop) * scale
    if target_stroke is not None:
        crop = _normalise_strokes(crop, width / scale, target_stroke)
        trimmed = np.nonzero(crop > 0)
        crop = crop[
            trimmed[0].min() : trimmed[0].max() + 1, trimmed[1].min() : trimmed[1].max() + 1
        ]
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
    image = np.rint(canvas * MAX_PIXEL).astype(np.uint8)
    return Fitted(image=image, box=box, scale=scale, shift=(top, left), stroke_width=width)
