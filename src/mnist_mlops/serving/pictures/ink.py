"""Find the ink of one handwritten digit in a grayscale picture, whatever its light and polarity.

The steps and their reasons: docs/decisions/serving-digit-normalisation.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from mnist_mlops.config.constants import IMAGE_SIDE
from mnist_mlops.errors import InputError
from mnist_mlops.serving.pictures.marks import (
    attached,
    check_digit_like,
    digit_marks,
    otsu_threshold,
    pixel_noise,
)
from mnist_mlops.serving.pictures.resample import resize

WORK_SIDE = 256  # larger pictures are reduced to this longer side first ...
MIN_WORK_SIDE = IMAGE_SIDE  # ... and smaller ones than MNIST's enlarged to this
SMALL_SIDE = 32  # the background is estimated on a copy this small
BACKGROUND_WINDOW = 0.4  # share of the small copy's shorter side the filters span
BACKGROUND_PERCENTILE = 25  # of the window, in the ink-is-bright image: the paper
BLANK_RANGE = 12.0  # gray levels: a picture spanning fewer is blank / uniform
CLEAN_SHARE = 0.5  # a background is clean when this share of pixels ...
CLEAN_TOLERANCE = 4.0  # ... lies within this many gray levels of the most common one
CLEAN_NOISE = 2.0  # gray levels: and its pixel noise is at most this (no sensor noise)
CLEAN_PERCENTILE = 99  # of those pixels' deviations: fainter ink is background
MASK_BLUR = 1.0  # pixels: Gaussian blur of the ink strength before thresholding (photos)
BLUR_NOISE = 1 / (2 * np.sqrt(np.pi) * MASK_BLUR)  # what that blur leaves of white noise
NOISE_SIGMAS = 4.0  # the threshold is at least this many noise deviations
MIN_CONTRAST = 10.0  # gray levels: and never below this
INK_LEVEL_PERCENTILE = 50  # of a photo's ink strength inside the digit: maps to full ink
CLEAN_LEVEL_PERCENTILE = 100  # the same on a clean background (MNIST images stay as they are)
EDGE_SHARE = 0.25  # of the threshold: fainter ink attached to the digit is its soft edge


@dataclass(frozen=True)
class Ink:
    """The digit's ink in the working image (bright on black) and how it was found."""

    strength: np.ndarray  # float32 in [0, 1]: 1 is full ink, 0 outside the digit
    mask: np.ndarray  # bool: the kept marks (ink above the threshold)
    polarity: str  # "dark-on-light" or "light-on-dark": the picture as given
    flattened: bool  # True when an uneven background was estimated and subtracted
    noise: float  # gray levels: robust deviation of the background
    dropped: int  # marks dropped as specks or strays
    work_scale: float  # working-image pixels per input pixel


def _working_image(gray: np.ndarray) -> tuple[np.ndarray, float]:
    pixels = np.asarray(gray, dtype=np.float32)
    longest = max(pixels.shape)
    if MIN_WORK_SIDE <= longest <= WORK_SIDE:
        return pixels, 1.0
    scale = (WORK_SIDE if longest > WORK_SIDE else MIN_WORK_SIDE) / longest
    size = (max(1, round(pixels.shape[0] * scale)), max(1, round(pixels.shape[1] * scale)))
    return resize(pixels, size), scale


def _small_copy(pixels: np.ndarray) -> np.ndarray:
    scale = min(1.0, SMALL_SIDE / max(pixels.shape))
    size = (max(1, round(pixels.shape[0] * scale)), max(1, round(pixels.shape[1] * scale)))
    return resize(pixels, size)


def _background_filter(small: np.ndarray, percentile: float, full: tuple[int, int]) -> np.ndarray:
    """A smooth background at the working size: a percentile filter of the small copy."""
    window = max(3, int(BACKGROUND_WINDOW * min(small.shape)) | 1)
    background = ndimage.percentile_filter(small, percentile, size=window, mode="reflect")
    background = ndimage.uniform_filter(background, max(3, window // 2) | 1, mode="reflect")
    return resize(background, full)


def _clean_level(pixels: np.ndarray) -> tuple[float, float] | None:
    """A clean background's gray level and largest deviation, or ``None`` for a photo."""
    if pixel_noise(pixels) > CLEAN_NOISE:
        return None
    counts = np.bincount(np.clip(np.rint(pixels), 0, 255).astype(np.intp).ravel(), minlength=256)
    mode = int(counts.argmax())
    near = np.abs(pixels - mode) <= CLEAN_TOLERANCE
    if near.mean() < CLEAN_SHARE:
        return None
    level = float(np.median(pixels[near]))
    return level, float(np.percentile(np.abs(pixels[near] - level), CLEAN_PERCENTILE))


def _ink_is_bright(residual: np.ndarray) -> bool:
    """Compare the contrast above and below the background (beyond its noise)."""
    margin = 3.0 * pixel_noise(residual)
    bright = np.clip(residual - margin, 0, None).sum()
    dark = np.clip(-residual - margin, 0, None).sum()
    return bool(bright >= dark)


def _strength(pixels: np.ndarray) -> tuple[np.ndarray, bool, float | None]:
    """Ink strength (bright on ~0), ink is bright, a clean background's spread (photo: None)."""
    clean = _clean_level(pixels)
    if clean is not None:
        level, deviation = clean
        bright = _ink_is_bright(pixels - level)
        strength = pixels - level if bright else level - pixels
        return strength, bright, deviation
    small = _small_copy(pixels)
    bright = _ink_is_bright(pixels - _background_filter(small, 50, pixels.shape))
    oriented, small = (pixels, small) if bright else (255 - pixels, 255 - small)
    strength = oriented - _background_filter(small, BACKGROUND_PERCENTILE, pixels.shape)
    return strength - np.median(strength), bright, None


def find_ink(gray: np.ndarray) -> Ink:
    """Return the digit's :class:`Ink` at the working size, from gray levels in [0, 255].

    Raises:
        InputError: The picture is blank or uniform, nothing stands out from its noise, or
            what stands out is only specks.
    """
    pixels, work_scale = _working_image(gray)
    spread = float(pixels.max() - pixels.min())
    if spread < BLANK_RANGE:
        raise InputError(
            f"no digit found: the image is blank / uniform (all pixels within {spread:.0f} "
            "gray levels)"
        )
    strength, bright, deviation = _strength(pixels)
    flattened = deviation is None
    noise = pixel_noise(strength)
    smooth = ndimage.gaussian_filter(strength, MASK_BLUR, mode="reflect") if flattened else strength
    smooth_noise = noise * BLUR_NOISE if flattened else noise
    threshold = max(otsu_threshold(smooth), NOISE_SIGMAS * smooth_noise, MIN_CONTRAST)
    mask = smooth > threshold
    if not mask.any():
        raise InputError(
            f"no digit found: nothing stands out from the background (contrast "
            f"{float(smooth.max()):.0f} gray levels, noise {noise:.1f})"
        )
    mask, dropped = digit_marks(mask)
    check_digit_like(mask, pixels.shape)
    percentile = INK_LEVEL_PERCENTILE if flattened else CLEAN_LEVEL_PERCENTILE
    level = float(np.percentile(strength[mask], percentile))
    floor = min(3.0 * noise, level / 2)
    ink = np.clip((strength - floor) / max(level - floor, 1e-6), 0, 1)
    edge = max(floor, threshold * EDGE_SHARE) if deviation is None else max(floor, deviation)
    ink *= attached(smooth > edge, mask)
    polarity = "light-on-dark" if bright else "dark-on-light"
    return Ink(ink.astype(np.float32), mask, polarity, flattened, noise, dropped, work_scale)
