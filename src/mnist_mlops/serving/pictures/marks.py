"""The marks of a picture (:mod:`.ink`'s helpers): noise, Otsu's threshold, the digit's marks."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from mnist_mlops.errors import InputError

PART_SHARE = 0.08  # a mark at least this share of the largest one's area ...
PART_GAP = 0.4  # ... and at most this share of the digit's size away belongs to it
MIN_DIGIT_SHARE = 0.04  # the digit spans at least this share of the picture's longer side


def pixel_noise(values: np.ndarray) -> float:
    """Return the pixel noise's deviation in gray levels, robustly from neighbours' differences."""
    steps = np.diff(values, axis=1).ravel()
    if steps.size == 0:
        steps = np.diff(values, axis=0).ravel()
    if steps.size == 0:
        return 0.0
    spread = np.median(np.abs(steps - np.median(steps)))
    return float(1.4826 * spread / np.sqrt(2))


def otsu_threshold(values: np.ndarray, bins: int = 256) -> float:
    """Return Otsu's threshold of ``values`` over ``bins`` (the smallest value if all equal)."""
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


def digit_marks(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """Return the mask of the digit's marks in ``mask`` (not empty) and how many were dropped.

    The largest mark, then repeatedly any of at least :data:`PART_SHARE` of its area whose box
    is at most :data:`PART_GAP` of the digit's size away from the digit's box.
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
    return keep[labels], len(areas) - len(kept)


def attached(low: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """Return ``kept`` grown by every pixel of ``low`` (fainter ink) connected to it."""
    labels, areas, _ = label(low | kept)
    touching = np.zeros(len(areas) + 1, dtype=bool)
    touching[np.unique(labels[kept])] = True
    touching[0] = False
    return touching[labels]


def check_digit_like(mask: np.ndarray, shape: tuple[int, ...]) -> None:
    """Refuse marks spanning under :data:`MIN_DIGIT_SHARE` of the picture's longer side.

    Raises:
        InputError: Specks or noise, naming the marks' and the picture's size.
    """
    rows, columns = np.nonzero(mask)
    height, width = int(np.ptp(rows)) + 1, int(np.ptp(columns)) + 1
    if max(height, width) < MIN_DIGIT_SHARE * max(shape):
        raise InputError(
            f"no digit found: the largest mark spans only {height}x{width} pixels of a "
            f"{shape[0]}x{shape[1]} picture (specks or noise)"
        )
