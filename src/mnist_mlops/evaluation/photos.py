"""Held-out handwriting as seeded "photos", to evaluate the image normalisation (evaluation only).

:func:`plain_resize` is the path images took before the MNIST-style normalisation (the
baseline); :func:`uci_digits` brings scikit-learn's 8x8 UCI digits to MNIST's float form.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from mnist_mlops.config.constants import IMAGE_SIDE
from mnist_mlops.serving.pictures.resample import resize

LIGHT_BORDER = 127.5  # the old path inverted images whose border was lighter than this
UCI_MAX = 16.0  # load_digits' gray levels go from 0 to 16
UCI_SIDE = 32  # the UCI digits were drawn as 32x32 bitmaps before their 4x4 reduction


@dataclass(frozen=True)
class PhotoSettings:
    """Ranges the photos are drawn from (uniformly, per photo)."""

    canvas: tuple[int, int] = (64, 160)  # pixels, height and width drawn independently
    digit_share: tuple[float, float] = (0.3, 0.8)  # the digit's longer side / canvas's shorter
    blur: tuple[float, float] = (0.0, 1.5)  # Gaussian sigma per 100 canvas pixels
    noise: tuple[float, float] = (2.0, 12.0)  # gray levels (Gaussian sensor noise)
    gradient: tuple[float, float] = (0.0, 0.6)  # brightness change across the canvas (share)
    dark_on_light: float = 0.5  # share of photos with dark ink on light paper


def _ink_box(digit: np.ndarray) -> np.ndarray:
    rows, columns = np.nonzero(digit > 0.05)
    return digit[rows.min() : rows.max() + 1, columns.min() : columns.max() + 1]


def make_photo(digit: np.ndarray, rng: np.random.Generator, settings: PhotoSettings) -> np.ndarray:
    """Return a uint8 "photo" of ``digit`` (float, bright ink > 0 on black), drawn from ``rng``.

    The digit is put at a random size and place on a larger canvas, in either polarity, then
    blurred, lit by a gradient and given sensor noise (ranges: ``settings``).
    """
    height, width = (int(rng.integers(settings.canvas[0], settings.canvas[1] + 1)) for _ in "hw")
    ink = _ink_box(np.asarray(digit, dtype=np.float32))
    side = rng.uniform(*settings.digit_share) * min(height, width)
    factor = side / max(ink.shape)
    size = (max(2, round(ink.shape[0] * factor)), max(2, round(ink.shape[1] * factor)))
    layer = np.zeros((height, width), dtype=np.float32)
    top = int(rng.integers(0, height - size[0] + 1))
    left = int(rng.integers(0, width - size[1] + 1))
    layer[top : top + size[0], left : left + size[1]] = np.clip(resize(ink, size), 0, 1)
    layer = ndimage.gaussian_filter(layer, rng.uniform(*settings.blur) * min(height, width) / 100)
    if rng.random() < settings.dark_on_light:
        paper, pen = rng.uniform(150, 240), rng.uniform(10, 100)
    else:
        paper, pen = rng.uniform(0, 80), rng.uniform(150, 255)
    photo = paper + (pen - paper) * layer
    angle = rng.uniform(0, 2 * np.pi)
    rows, columns = np.mgrid[0:height, 0:width]
    ramp = (np.cos(angle) * columns / width + np.sin(angle) * rows / height) - 0.5
    photo = photo * (1 + rng.uniform(*settings.gradient) * ramp)
    photo = photo + rng.normal(0, rng.uniform(*settings.noise), size=photo.shape)
    return np.clip(np.rint(photo), 0, 255).astype(np.uint8)


def make_photos(
    digits: Iterable[np.ndarray], seed: int, settings: PhotoSettings | None = None
) -> list[np.ndarray]:
    """Return one :func:`make_photo` per digit, in order; the same digits and seed, same photos."""
    rng = np.random.default_rng(seed)
    chosen = settings or PhotoSettings()
    return [make_photo(digit, rng, chosen) for digit in digits]


def plain_resize(gray: np.ndarray) -> np.ndarray:
    """Return the old path's ``(28, 28)`` uint8 image of ``gray``: Lanczos, inverted if light."""
    from PIL import Image

    image = Image.fromarray(np.asarray(gray, dtype=np.uint8))
    small = np.asarray(
        image.resize((IMAGE_SIDE, IMAGE_SIDE), Image.Resampling.LANCZOS), dtype=np.uint8
    )
    border = np.concatenate([small[0], small[-1], small[:, 0], small[:, -1]])
    return 255 - small if border.mean() > LIGHT_BORDER else small


def uci_digits(images: np.ndarray) -> np.ndarray:
    """Return ``load_digits`` images ``(N, 8, 8)``, 0-16, as ``(N, 32, 32)`` float32 in [0, 1]."""
    scaled = np.asarray(images, dtype=np.float32) / UCI_MAX
    return np.stack(
        [np.clip(resize(image, (UCI_SIDE, UCI_SIDE), "BICUBIC"), 0, 1) for image in scaled]
    )


def strip_png(
    photos: Sequence[np.ndarray],
    rows: Mapping[str, Sequence[np.ndarray]],
    captions: Mapping[str, Sequence[str]] | None = None,
) -> bytes:
    """Return a PNG: ``photos`` in the first row, each path's images of them (``rows``) below.

    ``captions`` (per path name, optional) go under that path's images.
    """
    from mnist_mlops.evaluation.plots import pyplot

    plt = pyplot()
    count = len(photos)
    figure, axes = plt.subplots(
        len(rows) + 1, count, figsize=(1.25 * count, 1.45 * (len(rows) + 1)), squeeze=False
    )
    for row, (name, images) in enumerate([("photo", photos), *rows.items()]):
        for column, image in enumerate(images):
            axis = axes[row][column]
            axis.imshow(image, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
            axis.set_xticks([])
            axis.set_yticks([])
            if captions and name in captions:
                axis.set_xlabel(captions[name][column], fontsize=8)
        axes[row][0].set_ylabel(name, fontsize=8)
    figure.tight_layout(pad=0.3)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=72)
    plt.close(figure)
    return buffer.getvalue()
