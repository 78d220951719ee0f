import numpy as np

from mnist_mlops.errors import InputError
from mnist_mlops.evaluation.photos import (
    PhotoSettings,
    make_photos,
    plain_resize,
    uci_digits,
)
from mnist_mlops.serving.pictures.images import normalise_digit
from tests.helpers.handwriting import accuracy, embedded_mnist_model

PHOTOS = 150


def border(image: np.ndarray) -> np.ndarray:
    return np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])


def test_photos_are_seeded_and_drawn_from_the_settings():
    digits = np.zeros((40, 28, 28), np.float32)
    digits[:, 6:22, 12:16] = 1.0  # a "1"
    settings = PhotoSettings(canvas=(50, 90))
    photos = make_photos(digits, seed=7, settings=settings)
    again = make_photos(digits, seed=7, settings=settings)
    assert all(np.array_equal(a, b) for a, b in zip(photos, again, strict=True))
    assert not all(
        np.array_equal(a, b) for a, b in zip(photos, make_photos(digits, seed=8), strict=False)
    )
    assert all(
        50 <= p.shape[0] <= 90 and 50 <= p.shape[1] <= 90 and p.dtype == np.uint8 for p in photos
    )
    light = [border(p).mean() > 127 for p in photos]
    assert 5 < sum(light) < 35  # both polarities
    assert len({p.shape for p in photos}) > 10  # random sizes


def test_the_old_path_only_resizes_and_inverts():
    dark_on_light = np.full((60, 40), 230, np.uint8)
    dark_on_light[10:50, 18:22] = 20
    old = plain_resize(dark_on_light)
    assert old.shape == (28, 28) and old[0].max() < 40 and old[:, 13].max() > 180
    light_on_dark = plain_resize(255 - dark_on_light)  # not inverted: the same image
    assert np.abs(light_on_dark.astype(int) - old).max() <= 1


def test_uci_digits_become_bright_on_black_floats():
    images = np.zeros((2, 8, 8))
    images[:, 1:7, 3:5] = 16
    digits = uci_digits(images)
    assert digits.shape == (2, 32, 32) and digits.dtype == np.float32
    assert digits.max() == 1.0 and digits.min() == 0.0 and digits[:, 0].max() < 0.05


def test_the_normalisation_reads_photos_the_plain_resize_cannot():
    network, images, labels = embedded_mnist_model()
    photos = make_photos(images[:PHOTOS] / np.float32(255), seed=0)

    def normalised(photo):
        try:
            return normalise_digit(photo)
        except InputError:  # counted as a wrong answer
            return np.zeros((28, 28), np.uint8)

    plain = accuracy(network, [plain_resize(p) for p in photos], labels[:PHOTOS])
    ours = accuracy(network, [normalised(p) for p in photos], labels[:PHOTOS])
    clean = accuracy(network, images[:PHOTOS], labels[:PHOTOS])
    assert plain < 0.3  # the plain resize: close to chance on photos
    assert ours > plain + 0.4 and ours > clean - 0.15
