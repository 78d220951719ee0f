"""The few image operations the normalisation needs, in NumPy alone.

``scipy.ndimage`` has them all, but importing it costs about a second on 2 busy cores - a
third of what ``mnist-mlops predict`` may take for one digit (``benchmarks/README.md``). These
versions follow ``scipy.ndimage``'s conventions (``reflect`` borders, a Gaussian truncated at
4 sigma, 8-connected labels numbered in row-major order of their first pixel);
``tests/serving/test_morphology.py`` compares them with it.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

TRUNCATE = 4.0  # sigmas of the Gaussian kernel kept on each side


def gaussian_blur(values: np.ndarray, sigma: float) -> np.ndarray:
    """Return ``values`` blurred by a Gaussian of ``sigma`` pixels (``reflect`` borders)."""
    radius = int(TRUNCATE * sigma + 0.5)
    if radius < 1:
        return np.asarray(values, dtype=np.float32).copy()
    offsets = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (offsets / sigma) ** 2)
    kernel /= kernel.sum()
    result = np.asarray(values, dtype=np.float32)
    for axis in (0, 1):
        padding = [(0, 0), (0, 0)]
        padding[axis] = (radius, radius)
        padded = np.pad(result, padding, mode="symmetric")
        length = result.shape[axis]
        result = sum(
            weight * np.take(padded, np.arange(index, index + length), axis=axis)
            for index, weight in enumerate(kernel)
        )
    return np.asarray(result, dtype=np.float32)


def percentile_filter(values: np.ndarray, percentile: float, size: int) -> np.ndarray:
    """Return each pixel's ``percentile`` over the ``size`` x ``size`` window around it.

    Meant for small images (the cost is pixels x window); ``size`` must be odd.
    """
    radius = size // 2
    padded = np.pad(values, radius, mode="symmetric")
    windows = sliding_window_view(padded, (size, size))
    return np.percentile(windows, percentile, axis=(-2, -1)).astype(np.float32)


def box_blur(values: np.ndarray, size: int) -> np.ndarray:
    """Return the mean over the ``size`` x ``size`` window around each pixel (odd ``size``)."""
    radius = size // 2
    padded = np.pad(np.asarray(values, dtype=np.float64), radius, mode="symmetric")
    return sliding_window_view(padded, (size, size)).mean(axis=(-2, -1)).astype(np.float32)


def _cross(values: np.ndarray, reduce: np.ufunc) -> np.ndarray:
    padded = np.pad(values, 1)  # zeros beyond the edges
    neighbours = (padded[:-2, 1:-1], padded[2:, 1:-1], padded[1:-1, :-2], padded[1:-1, 2:])
    return reduce.reduce(np.stack((values, *neighbours)), axis=0)


def grow(values: np.ndarray) -> np.ndarray:
    """Grey dilation by one pixel: the maximum over each pixel and its 4 neighbours."""
    return _cross(values, np.maximum)


def shrink(values: np.ndarray) -> np.ndarray:
    """Grey erosion by one pixel: the minimum over each pixel and its 4 neighbours (0 outside)."""
    return _cross(values, np.minimum)


def centre_of_mass(values: np.ndarray) -> tuple[float, float]:
    """Return the (row, column) centre of mass of a non-negative image."""
    total = float(values.sum())
    rows = np.arange(values.shape[0]) @ values.sum(axis=1)
    columns = np.arange(values.shape[1]) @ values.sum(axis=0)
    return float(rows) / total, float(columns) / total


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's runs of set pixels: (row, first column, column after the last), row-major."""
    steps = np.diff(np.pad(mask.astype(np.int8), ((0, 0), (1, 1))), axis=1)
    rows, starts = np.nonzero(steps == 1)
    return rows, starts, np.nonzero(steps == -1)[1]


def _run_components(rows: np.ndarray, starts: np.ndarray, ends: np.ndarray, height: int) -> list:
    """A union-find over runs: runs of consecutive rows that touch (diagonals too) are joined."""
    parent = list(range(len(starts)))
    first, last = starts.tolist(), ends.tolist()

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    bounds = np.searchsorted(rows, np.arange(height + 1)).tolist()
    for row in range(1, height):
        above, above_end = bounds[row - 1], bounds[row]
        for run in range(bounds[row], bounds[row + 1]):
            while above < above_end and last[above] < first[run]:
                above += 1  # ends left of this run (and of every later run of this row)
            other = above
            while other < above_end and first[other] <= last[run]:
                parent[root(run)] = root(other)
                other += 1
    return [root(run) for run in range(len(parent))]


def label(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Label the 8-connected components of a 2-D boolean mask.

    A union-find over the runs of each row, so the cost grows with the number of runs, not
    of pixels.

    Args:
        mask: A 2-D boolean array.

    Returns:
        ``(labels, areas, boxes)``: an int32 image (0 outside the mask, components numbered
        from 1 in row-major order of their first pixel), each component's pixel count, and its
        ``(top, left, bottom, right)`` box (bottom and right exclusive), one row per component.
    """
    rows, starts, ends = _runs(mask)
    roots = np.array(_run_components(rows, starts, ends, mask.shape[0]), dtype=np.int64)
    _, first, numbers = np.unique(roots, return_index=True, return_inverse=True)
    count = len(first)
    index = np.argsort(np.argsort(first))[numbers]  # 0-based component of each run
    lengths = ends - starts
    labels = np.zeros(mask.shape, dtype=np.int32)
    labels[mask] = np.repeat(index + 1, lengths)
    areas = np.bincount(index, weights=lengths, minlength=count).astype(np.int64)
    boxes = np.empty((count, 4), dtype=np.int64)
    boxes[:, :2] = np.iinfo(np.int64).max
    boxes[:, 2:] = -1
    np.minimum.at(boxes[:, 0], index, rows)
    np.minimum.at(boxes[:, 1], index, starts)
    np.maximum.at(boxes[:, 2], index, rows + 1)
    np.maximum.at(boxes[:, 3], index, ends)
    return labels, areas, boxes
