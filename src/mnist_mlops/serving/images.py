"""Turn a picture of one handwritten digit into the 28x28 image the model expects.

One module for every image path: ``mnist-mlops predict`` (files), the REST server (image
bodies and uploads) and the draw-a-digit page all call :func:`decode_image` (bytes) or
:func:`normalise_digit` (a grayscale array).

The result is MNIST's convention: a ``(28, 28)`` uint8 array, a bright digit on black.
"""

from __future__ import annotations

import io

import numpy as np

from mnist_mlops.config.constants import IMAGE_SIDE
from mnist_mlops.errors import InputError

IMAGE_FORMATS = ("PNG", "JPEG")
LIGHT_BACKGROUND = 127.5


def normalise_digit(gray: np.ndarray) -> np.ndarray:
    """Return a grayscale picture of one digit as MNIST's ``(28, 28)`` uint8, bright on black.

    Args:
        gray: A 2-D array of gray levels in [0, 255], any size, either polarity.

    Returns:
        The ``(28, 28)`` uint8 image the model is given.

    Raises:
        InputError: The array is not a 2-D picture.
    """
    from PIL import Image

    pixels = np.asarray(gray)
    if pixels.ndim != 2 or min(pixels.shape) < 1:
        raise InputError(f"an image must be a 2-D array of gray levels, got shape {pixels.shape}")
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), mode="L")
    small = np.asarray(
        image.resize((IMAGE_SIDE, IMAGE_SIDE), Image.Resampling.LANCZOS), dtype=np.uint8
    )
    border = np.concatenate([small[0], small[-1], small[:, 0], small[:, -1]])
    return 255 - small if border.mean() > LIGHT_BACKGROUND else small


def decode_image(data: bytes, name: str = "image") -> np.ndarray:
    """Decode PNG or JPEG bytes into a grayscale array (no normalisation yet).

    Args:
        data: The file's bytes.
        name: What to call the image in error messages (a file name, "request body").

    Returns:
        A 2-D uint8 array of gray levels.

    Raises:
        InputError: The bytes are not a readable PNG or JPEG image.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in IMAGE_FORMATS:
                raise InputError(
                    f"{name}: {image.format} images are not accepted; allowed: PNG, JPEG"
                )
            return np.asarray(image.convert("L"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError) as exc:
        raise InputError(f"{name}: not a readable image: {exc}") from None


def read_digit_image(data: bytes, name: str = "image") -> np.ndarray:
    """Decode PNG/JPEG bytes and normalise them: the ``(28, 28)`` uint8 the model sees.

    Args:
        data: The file's bytes.
        name: What to call the image in error messages.

    Returns:
        The normalised ``(28, 28)`` uint8 image, bright digit on black.

    Raises:
        InputError: Unreadable bytes or no usable picture.
    """
    return normalise_digit(decode_image(data, name))
