"""Anti-aliased resizing of float images (Pillow's 32-bit float mode), for the normalisation."""

from __future__ import annotations

import numpy as np


def resize(pixels: np.ndarray, size: tuple[int, int], filter_name: str = "BILINEAR") -> np.ndarray:
    """Return 2-D ``pixels`` as float32 of ``size`` (rows, columns), anti-aliased when reduced.

    ``filter_name`` is a ``PIL.Image.Resampling`` name; an unchanged size returns a copy.
    """
    from PIL import Image

    values = np.ascontiguousarray(pixels, dtype=np.float32)
    if values.shape == tuple(size):
        return values.copy()
    image = Image.fromarray(values)  # float32: mode "F"
    resized = image.resize((size[1], size[0]), Image.Resampling[filter_name])
    return np.asarray(resized, dtype=np.float32)
