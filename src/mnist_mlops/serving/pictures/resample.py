"""Anti-aliased resizing of float images (Pillow's 32-bit float mode), for the normalisation."""

from __future__ import annotations

import numpy as np


def resize(pixels: np.ndarray, size: tuple[int, int], filter_name: str = "BILINEAR") -> np.ndarray:
    """Return ``pixels`` resized to ``size`` = (rows, columns), anti-aliased when reduced.

    Pillow widens the filter's support by the reduction factor, so a reduction averages every
    source pixel (no aliasing), and an enlargement interpolates.

    Args:
        pixels: A 2-D array of numbers.
        size: The wanted (rows, columns).
        filter_name: A ``PIL.Image.Resampling`` name (``BILINEAR``, ``BOX``, ``LANCZOS``...).

    Returns:
        A float32 array of shape ``size`` (the input's values when the size is unchanged).
    """
    from PIL import Image

    values = np.ascontiguousarray(pixels, dtype=np.float32)
    if values.shape == tuple(size):
        return values.copy()
    image = Image.fromarray(values)  # float32: mode "F"
    resized = image.resize((size[1], size[0]), Image.Resampling[filter_name])
    return np.asarray(resized, dtype=np.float32)
