"""Digit inputs of every accepted form to validated rows of 784 floats in [0, 1]."""

from __future__ import annotations

import sys

import numpy as np

from mnist_mlops.config.constants import IMAGE_SIDE, INPUT_DIM, MAX_PIXEL
from mnist_mlops.errors import InputError

MAX_ROWS = 1000


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _as_float_array(values: object) -> np.ndarray:
    """Return ``values`` as a float32 array, or raise :class:`InputError`."""
    array = values.to_numpy() if hasattr(values, "to_numpy") else values
    try:
        array = np.asarray(array)
    except (ValueError, TypeError, OverflowError) as exc:  # ragged nested lists
        raise InputError(f"input is not a rectangular array: {exc}") from None
    if array.dtype == object and all(_is_number(value) for value in array.flat):
        # Python ints beyond 64 bits: a float, or too large for one.
        if not all(abs(value) <= sys.float_info.max for value in array.flat):
            raise InputError("input values must be finite numbers, got one beyond ±1.8e308")
        array = array.astype(np.float64)
    if array.dtype == object or array.dtype.kind in "USb":
        got = {"U": "strings", "S": "strings", "b": "booleans"}.get(
            array.dtype.kind, "mixed or nested values"
        )
        raise InputError(
            f"input values must be numbers, got {got}; "
            "send floats in [0, 1] or raw pixels in [0, 255]"
        )
    if array.dtype.kind not in "iuf":
        raise InputError(f"input values must be real numbers, got dtype {array.dtype}")
    with np.errstate(over="ignore"):  # beyond float32's range: inf, refused below
        return array.astype(np.float32, copy=False)


def _to_rows(array: np.ndarray) -> np.ndarray:
    """Reshape any accepted shape to ``(N, 784)``."""
    shape = array.shape
    if shape == (INPUT_DIM,) or shape == (IMAGE_SIDE, IMAGE_SIDE):
        return array.reshape(1, INPUT_DIM)
    if array.ndim == 2 and shape[1] == INPUT_DIM:
        return array
    if array.ndim == 3 and shape[1:] == (IMAGE_SIDE, IMAGE_SIDE):
        return array.reshape(shape[0], INPUT_DIM)
    raise InputError(f"input has shape {shape}; allowed: (784,), (N, 784), (28, 28) or (N, 28, 28)")


def to_pixel_rows(values: object, max_rows: int | None = MAX_ROWS) -> np.ndarray:
    """Validate digits and return them as ``(N, 784)`` float32 rows in [0, 1].

    Args:
        values: An array, nested lists or a DataFrame of shape ``(784,)``, ``(N, 784)``,
            ``(28, 28)`` or ``(N, 28, 28)``. A row whose largest value is above 1 holds raw
            0-255 pixels (divided by 255); one within [0, 1] is scaled already.
        max_rows: The largest batch accepted (``None``: no limit).

    Raises:
        InputError: Empty or oversized batch, wrong shape, non-numeric, non-finite or
            out-of-range values (naming the problem and what is allowed).
    """
    array = _as_float_array(values)
    if array.size == 0:
        raise InputError("the batch is empty; send at least one digit")
    rows = _to_rows(array)
    if max_rows is not None and len(rows) > max_rows:
        raise InputError(f"the batch has {len(rows)} digits; at most {max_rows} are allowed")
    finite = np.isfinite(rows)
    if not finite.all():
        row, column = np.argwhere(~finite)[0]
        raise InputError(
            f"digit {row}, pixel {column} is {rows[row, column]} (as a 32-bit float); values "
            "must be finite numbers"
        )
    low, high = rows.min(axis=1), rows.max(axis=1)
    bad = np.flatnonzero((low < 0) | (high > MAX_PIXEL))
    if bad.size:
        row = int(bad[0])
        raise InputError(
            f"digit {row} has values in [{low[row]:g}, {high[row]:g}]; allowed: floats in "
            "[0, 1] or raw pixels in [0, 255]"
        )
    raw = high > 1.0
    if raw.any():
        rows = rows.copy()
        rows[raw] /= np.float32(MAX_PIXEL)
    return rows
