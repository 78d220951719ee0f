"""The marks of a thresholded picture: noise, Otsu's threshold, and which marks are the digit.

Helpers of :mod:`mnist_mlops.serving.pictures.ink`: a digit is its largest connected mark plus the
sizeable marks near it (a "5" written in two strokes, a broken line); small specks and marks
far away are dropped. :func:`check_digit_like` refuses what cannot be one digit.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from mnist_mlops.errors import InputError

PART_SHARE = 0.08  # a mark at least this share of the largest one's area ...
PART_GAP = 0.4  # ... and at most this share of the digit's size away belongs to it
MIN_DIGIT_SHARE = 0.04  # the digit spans at least this share of the picture's longer side


def pixel_noise(values: np.ndarray) -> float:
    """Return the pixel noise's standard deviation, from neighbours' differences.

    Two neighbours' independent noise differs by ``sqrt(2)`` deviations; the median absolute
    deviation of the differences ignores the few large ones at the strokes' edges and the
    small ones of smooth light gradients.

    Args:
        values: A 2-D array of gray levels.

    Returns:
        The deviation in gray levels (0.0 for a noiseless picture).
    """
    steps = np.diff(values, axis=1).ravel()
    if steps.size == 0:
        steps = np.diff(values, axis=0).ravel()
    if steps.size == 0:
        return 0.0
    spread = np.median(np.abs(steps - np.median(steps)))
    return float(1.4826 * spread / np.sqrt(2))


def otsu_threshold(values: np.ndarray, bins: int = 256) -> float:
    """Return Otsu's threshold: the level that best splits ``values`` into two classes.

    Args:
        values: Any array of numbers.
        bins: Histogram bins between the smallest and the largest value.

    Returns:
        The threshold (the smallest value when all values are equal).
    """
    low, high = float(values.min()), float(values.max())
    if high <= low:
        return low
    counts, edges = np.histogram(values, bins=bins, range=(low, high))
    centres = (edges[:-1] + edges[1:]) / 2
    weight = np.cumsum(counts, dtype=np.float64)
    mass = np.cumsum(counts * centres)
    total, total_mass = weight[-1], mass[-1]
    rest = total - weight
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (total_mass * weight - total * mass) ** 2 / (weight * rest)
    between[~np.isfinite(between)] = -1.0
    return float(edges[int(between.argmax()) + 1])


Box = tuple[int, int, int, int]  # (top, left, bottom, right), bottom and right exclusive
EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)


def label(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[Box]]:
    """Label the 8-connected marks of ``mask``: labels (0 outside), each one's area and box."""
    labels, count = ndimage.label(mask, structure=EIGHT_CONNECTED)
    areas = np.bincount(labels.ravel(), minlength=count + 1)[1:]
    boxes = [
        (rows.start, cols.start, rows.stop, cols.stop)
        for rows, cols in ndimage.find_objects(labels)
    ]
    return labels, areas, boxes


def _box_gap(part: Box, box: Box) -> int:
    """Pixels between two boxes (0 when they overlap or touch)."""
    rows = max(box[0] - part[2], part[0] - box[2], 0)
    columns = max(box[1] - part[3], part[1] - box[3], 0)
    return max(rows, columns)


def _union(box: Box, part: Box) -> Box:
    return min(box[0], part[0]), min(box[1], part[1]), max(box[2], part[2]), max(box[3], part[3])


def digit_marks(mask: np.ndarray) -> tuple[np.ndarray, int, int]:
    """Keep the digit's marks: the largest one and, repeatedly, the sizeable ones near them.

    A mark joins when its area is at least :data:`PART_SHARE` of the largest one's and its
    box is at most :data:`PART_GAP` of the digit's size (so far) away from the digit's box.

    Args:
        mask: A 2-D boolean array with at least one pixel set.

    Returns:
        The mask of the kept marks, how many were kept and how many dropped.
    """
    labels, areas, parts = label(mask)
    order = [int(index) for index in np.argsort(-areas, kind="stable")]
    box = parts[order[0]]
    kept = {order[0]}
    candidates = [index for index in order[1:] if areas[index] >= PART_SHARE * areas[order[0]]]
    grown = True
    while grown:
        grown = False
        for index in candidates:
            size = max(box[2] - box[0], box[3] - box[1])
            if index not in kept and _box_gap(parts[index], box) <= PART_GAP * size:
                kept.add(index)
                box = _union(box, parts[index])
                grown = True
    keep = np.zeros(len(areas) + 1, dtype=bool)
    keep[[index + 1 for index in kept]] = True
    return keep[labels], len(kept), len(areas) - len(kept)


def attached(low: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """Return the pixels of ``low`` connected to ``kept`` (hysteresis: the soft edges).

    Args:
        low: A boolean mask of fainter ink (a lower threshold).
        kept: The digit's marks.

    Returns:
        ``kept`` grown by every pixel of ``low`` connected to it.
    """
    labels, areas, _ = label(low | kept)
    touching = np.zeros(len(areas) + 1, dtype=bool)
    touching[np.unique(labels[kept])] = True
    touching[0] = False
    return touching[labels]


def check_digit_like(mask: np.ndarray, shape: tuple[int, ...]) -> None:
    """Refuse marks too small to be a digit (specks or noise).

    Args:
        mask: The digit's marks (not empty).
        shape: The picture's shape.

    Raises:
        InputError: The marks span less than :data:`MIN_DIGIT_SHARE` of the picture's longer
            side.
    """
    rows, columns = np.nonzero(mask)
    height, width = int(np.ptp(rows)) + 1, int(np.ptp(columns)) + 1
    if max(height, width) < MIN_DIGIT_SHARE * max(shape):
        raise InputError(
            f"no digit found: the largest mark spans only {height}x{width} pixels of a "
            f"{shape[0]}x{shape[1]} picture (specks or noise)"
        )
