"""Tiny synthetic digits and datasets built from them."""

from __future__ import annotations

import io

import numpy as np


def make_digits(per_class: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Return learnable synthetic 28x28 uint8 'digits': each class lights its own band."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 40, size=(10 * per_class, 28, 28), dtype=np.uint8)
    labels = np.repeat(np.arange(10, dtype=np.uint8), per_class)
    for index, label in enumerate(labels):
        images[index, 2 * label + 3 : 2 * label + 6, 4:24] = rng.integers(180, 256, size=(3, 20))
    order = rng.permutation(len(labels))
    return images[order], labels[order]


def npz_bytes() -> bytes:
    """A small ``mnist.npz`` (Keras's layout: train and test arrays) of synthetic digits."""
    x, y = make_digits(5)
    tx, ty = make_digits(2, seed=3)
    buffer = io.BytesIO()
    np.savez(buffer, x_train=x, y_train=y, x_test=tx, y_test=ty)
    return buffer.getvalue()


def picture_bytes(image: np.ndarray, format: str = "PNG", scale: int = 1) -> bytes:
    """A grayscale picture (uint8 array) as PNG or JPEG bytes, ``scale`` times larger."""
    from PIL import Image

    picture = Image.fromarray(np.asarray(image, dtype=np.uint8))
    if scale != 1:
        picture = picture.resize((picture.width * scale, picture.height * scale))
    buffer = io.BytesIO()
    picture.save(buffer, format=format)
    return buffer.getvalue()
