"""A picture of one handwritten digit to MNIST's form: a ``(28, 28)`` uint8, bright on black."""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from mnist_mlops.errors import InputError
from mnist_mlops.serving.pictures.fit import fit_digit
from mnist_mlops.serving.pictures.ink import BLANK_RANGE, WORK_SIDE, find_ink

IMAGE_FORMATS = ("PNG", "JPEG")
MNIST_STROKE = 2.8  # typical stroke width of MNIST digits in pixels (see benchmarks/README.md)


def _as_gray(gray: np.ndarray) -> np.ndarray:
    pixels = np.asarray(gray)
    if pixels.ndim != 2 or min(pixels.shape) < 1:
        raise InputError(f"an image must be a 2-D array of gray levels, got shape {pixels.shape}")
    if pixels.dtype.kind not in "uif" or not np.isfinite(pixels).all():
        raise InputError("an image must hold finite numbers (gray levels in [0, 255])")
    return np.clip(pixels.astype(np.float32), 0, 255)


def normalise_digit(gray: np.ndarray, *, stroke_width: float | None = None) -> np.ndarray:
    """Return 2-D gray levels in [0, 255] of one digit, either polarity, in MNIST's form.

    ``stroke_width``: when given, strokes are brought towards this output width
    (:data:`MNIST_STROKE` is MNIST's).

    Raises:
        InputError: Not a 2-D picture, or no digit in it (blank, uniform, only noise or specks).
    """
    return fit_digit(find_ink(_as_gray(gray)).strength, target_stroke=stroke_width).image


def _flatten_alpha(image: Any) -> Any:
    """Put a transparent picture on a background that contrasts with its opaque pixels."""
    from PIL import Image

    rgba = image.convert("RGBA")
    alpha = np.asarray(rgba.getchannel("A"), dtype=np.float32)
    if alpha.min() == 255:
        return rgba.convert("L")
    gray = np.asarray(rgba.convert("L"), dtype=np.float32)
    opaque = alpha > 127
    dark_ink = not opaque.any() or gray[opaque].mean() < 128
    paper = 255.0 if dark_ink else 0.0
    mixed = gray * (alpha / 255) + paper * (1 - alpha / 255)
    return Image.fromarray(np.rint(mixed).astype(np.uint8))


def _check_not_blank(image: Any, name: str) -> None:
    """Refuse a picture whose every channel spans under ``BLANK_RANGE`` levels, before arrays."""
    extrema = image.getextrema()
    bands = extrema if isinstance(extrema[0], tuple) else (extrema,)
    spread = max(high - low for low, high in bands)
    if spread < BLANK_RANGE:
        raise InputError(
            f"{name}: no digit found: the image is blank / uniform (every channel within "
            f"{spread:.0f} levels)"
        )


def decode_image(data: bytes, name: str = "image", *, max_side: int | None = None) -> np.ndarray:
    """Decode PNG or JPEG bytes into 2-D uint8 gray levels, EXIF orientation applied.

    A transparent background becomes white behind dark strokes, black behind light ones.
    ``name`` names the picture in errors; ``max_side`` lets a JPEG decode smaller, its longer
    side still at least this.

    Raises:
        InputError: Not a readable PNG or JPEG, or a blank picture.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in IMAGE_FORMATS:
                raise InputError(
                    f"{name}: {image.format} images are not accepted; allowed: PNG or JPEG"
                )
            if max_side is not None and image.format == "JPEG":
                image.draft("L", (max_side, max_side))
            _check_not_blank(image, name)
            oriented = ImageOps.exif_transpose(image)
            if oriented.mode in ("I", "I;16", "I;16B", "F"):  # 16-bit and float PNGs
                values = np.asarray(oriented, dtype=np.float64)
                values = values / 257 if values.max() > 255 else values
                return np.clip(np.rint(values), 0, 255).astype(np.uint8)
            if "A" in oriented.getbands() or "transparency" in oriented.info:
                return np.asarray(_flatten_alpha(oriented), dtype=np.uint8)
            return np.asarray(oriented.convert("L"), dtype=np.uint8)
    except UnidentifiedImageError:
        raise InputError(f"{name}: not a readable image; allowed: PNG or JPEG") from None
    except (OSError, Image.DecompressionBombError) as exc:
        raise InputError(f"{name}: not a readable image: {exc}") from None


def read_digit_image(
    data: bytes, name: str = "image", *, stroke_width: float | None = None
) -> np.ndarray:
    """Return PNG/JPEG bytes as MNIST's form (:func:`decode_image`, :func:`normalise_digit`).

    Raises:
        InputError: Unreadable bytes or no digit in the picture (naming ``name``).
    """
    gray = decode_image(data, name, max_side=2 * WORK_SIDE)
    try:
        return normalise_digit(gray, stroke_width=stroke_width)
    except InputError as exc:
        raise InputError(f"{name}: {exc}") from None
