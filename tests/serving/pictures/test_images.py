import io
import time
import tracemalloc

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mnist_mlops.errors import InputError
from mnist_mlops.serving.pictures.fit import stroke_width
from mnist_mlops.serving.pictures.images import (
    MNIST_STROKE,
    decode_image,
    normalise_digit,
    read_digit_image,
)
from mnist_mlops.serving.pictures.ink import find_ink
from tests.helpers.handwriting import (
    accuracy,
    as_photo,
    centre_of_mass,
    drawn_seven,
    drawn_zero,
    embedded_mnist_model,
    ink_box,
)


def png_bytes(image: Image.Image, format: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format, **options)
    return buffer.getvalue()


def aligned_difference(image: np.ndarray, normalised: np.ndarray) -> float:
    """Mean absolute pixel difference, at the best shift by at most one pixel each way."""
    return min(
        float(np.abs(np.roll(image.astype(int), (dy, dx), axis=(0, 1)) - normalised).mean())
        for dy in (-1, 0, 1)
        for dx in (-1, 0, 1)
    )


def test_the_result_is_mnist_shaped_centred_and_fits_the_box():
    # a small "7" near the top-right corner of a large canvas
    picture = drawn_seven(size=(300, 400), at=(20, 300), height=60, width=6)
    image = normalise_digit(picture)
    assert image.shape == (28, 28) and image.dtype == np.uint8
    assert np.abs(centre_of_mass(image) - (14, 14)).max() <= 1.0
    height, width = ink_box(image)
    assert max(height, width) in (20, 21) and height <= 21 and width <= 21
    assert image.max() > 200 and image[0].max() == image[-1].max() == 0


def test_the_aspect_ratio_is_kept():
    tall = normalise_digit(drawn_zero(radii=(80, 40)))  # twice as tall as wide
    wide = normalise_digit(drawn_zero(radii=(30, 60)))
    (tall_h, tall_w), (wide_h, wide_w) = ink_box(tall), ink_box(wide)
    assert tall_h == 20 and abs(tall_w - 10) <= 1
    assert wide_w == 20 and abs(wide_h - 10) <= 1


@pytest.mark.parametrize("dark_on_light", [True, False])
def test_either_polarity_gives_a_bright_digit_on_black(dark_on_light):
    clean = normalise_digit(drawn_seven())
    photo = as_photo(drawn_seven(), dark_on_light)
    assert find_ink(photo).polarity == ("dark-on-light" if dark_on_light else "light-on-dark")
    image = normalise_digit(photo)
    assert aligned_difference(image, clean) < 12
    assert image[:3].max() == 0 and image.max() > 240


def test_inverting_a_picture_changes_nothing():
    photo = as_photo(drawn_zero(), dark_on_light=True, seed=3)
    np.testing.assert_array_equal(normalise_digit(photo), normalise_digit(255 - photo))


def test_uneven_light_is_flattened_before_thresholding():
    zero = drawn_zero(width=16)
    evenly_lit = normalise_digit(as_photo(zero, dark_on_light=True))
    # the light falls by 70% from left to right: the paper on the right (about 65) is as dark
    # as the ink on the left, so no single gray level separates ink from paper
    photo = as_photo(zero, dark_on_light=True, gradient=0.7)
    assert photo[:, -5:].mean() < 80 and photo[:, :5].mean() > 190
    assert find_ink(photo.astype(np.float32)).flattened
    assert aligned_difference(normalise_digit(photo), evenly_lit) < 6


def test_specks_and_stray_marks_are_ignored():
    picture = drawn_seven()
    clean = normalise_digit(picture)
    speckled = picture.copy()
    rng = np.random.default_rng(0)
    for row, column in rng.integers(0, 160, size=(40, 2)):
        speckled[row : row + 2, column : column + 2] = 255
    assert find_ink(speckled.astype(np.float32)).dropped >= 30
    assert np.abs(normalise_digit(speckled).astype(int) - clean).mean() < 3


def test_an_mnist_style_image_is_left_as_it_is():
    once = normalise_digit(drawn_seven())
    assert once.max() == 255 and ink_box(once)[0] == 20
    np.testing.assert_array_equal(normalise_digit(once), once)
    shifted = np.roll(once, (1, -3), axis=(0, 1))  # off-centre (no wrap-around): re-centred
    np.testing.assert_array_equal(normalise_digit(shifted), once)


def test_normalising_real_mnist_digits_keeps_a_models_accuracy():
    network, images, labels = embedded_mnist_model()
    normalised = np.stack([normalise_digit(image) for image in images])
    differences = np.array(
        [aligned_difference(a, b) for a, b in zip(images, normalised, strict=True)]
    )
    assert np.mean(differences == 0) > 0.8  # the very same pixels, at most re-centred
    assert np.mean(differences < 0.5) > 0.97  # (the rest: specks dropped, contrast stretched)
    assert accuracy(network, images, labels) > 0.8
    assert accuracy(network, normalised, labels) >= accuracy(network, images, labels) - 0.005


def test_stroke_width_normalisation_is_optional():
    bold = drawn_seven(width=28)
    plain = stroke_width(normalise_digit(bold) / 255)
    evened = stroke_width(normalise_digit(bold, stroke_width=MNIST_STROKE) / 255)
    assert plain > MNIST_STROKE + 1.5
    assert abs(evened - MNIST_STROKE) < abs(plain - MNIST_STROKE) / 2
    thin = stroke_width(normalise_digit(drawn_seven(width=4), stroke_width=MNIST_STROKE) / 255)
    assert abs(thin - MNIST_STROKE) < 1


@pytest.mark.parametrize(
    ("picture", "message"),
    [
        (np.full((60, 80), 255, np.uint8), "no digit found: the image is blank / uniform"),
        (np.zeros((28, 28), np.uint8), "no digit found: the image is blank / uniform"),
        (np.full((50, 50), 128, np.uint8) + np.eye(50, dtype=np.uint8) * 5, "blank / uniform"),
        (
            np.random.default_rng(0).normal(128, 10, (100, 100)).clip(0, 255).astype(np.uint8),
            "nothing stands out from the background",
        ),
        (np.pad(np.full((1, 2), 255, np.uint8), 50), "only 1x2 pixels"),
        (np.zeros((28, 28, 3), np.uint8), "2-D array of gray levels"),
    ],
    ids=["white", "black", "faint", "noise", "speck", "colour"],
)
def test_pictures_without_a_digit_are_refused_naming_the_problem(picture, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        normalise_digit(picture)


def test_image_bytes_other_than_png_and_jpeg_are_refused():
    gif = png_bytes(Image.fromarray(drawn_seven()), "GIF")
    with pytest.raises(
        InputError, match="digit.gif: GIF images are not accepted; allowed: PNG or JPEG"
    ):
        read_digit_image(gif, "digit.gif")
    with pytest.raises(InputError, match="body: not a readable image; allowed: PNG or JPEG"):
        read_digit_image(b"\x89PNG but not really", "body")
    blank = png_bytes(Image.new("L", (40, 40), 255))
    with pytest.raises(InputError, match="blank.png: no digit found: the image is blank"):
        read_digit_image(blank, "blank.png")


@pytest.mark.parametrize("mode", ["L", "LA", "1"])
def test_a_huge_blank_png_is_refused_before_any_array_is_made(mode):
    blank = png_bytes(Image.new(mode, (4900, 4900), 255 if mode != "LA" else (0, 0)))
    assert len(blank) < 50_000
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(InputError, match="huge.png: no digit found: the image is blank"):
        read_digit_image(blank, "huge.png")
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 4_000_000, peak  # Pillow's own buffer only: no 24-megapixel NumPy array
    assert elapsed < 2.0  # generous: measured 0.06-0.2 s, against 0.25-1.3 s before


def test_png_jpeg_transparency_and_camera_orientation_are_decoded():
    seven = drawn_seven()
    expected = normalise_digit(seven)
    jpeg = png_bytes(Image.fromarray(255 - seven).convert("RGB"), "JPEG", quality=90)
    assert np.abs(read_digit_image(jpeg).astype(int) - expected).mean() < 6
    # dark strokes on a transparent canvas (what a drawing page exports), and light ones
    for stroke in (0, 255):
        canvas = Image.new("RGBA", (160, 200), (stroke, stroke, stroke, 0))
        canvas.putalpha(Image.fromarray(seven))
        assert np.abs(read_digit_image(png_bytes(canvas)).astype(int) - expected).mean() < 3
    # a camera's JPEG stored sideways with the EXIF orientation "rotate 90 clockwise"
    sideways = Image.fromarray(np.rot90(seven).copy())
    exif = Image.Exif()
    exif[0x0112] = 6
    jpeg = png_bytes(sideways, "JPEG", quality=95, exif=exif)
    assert decode_image(jpeg).shape == seven.shape


def test_the_ink_is_found_in_a_large_unevenly_lit_photo():
    photo = as_photo(drawn_seven(size=(400, 600), at=(100, 300)), dark_on_light=True, gradient=0.4)
    ink = find_ink(photo.astype(np.float32))
    assert ink.polarity == "dark-on-light" and ink.flattened and ink.noise > 0.5
    rows, columns = np.nonzero(ink.mask)
    top, left = rows.min() / ink.work_scale, columns.min() / ink.work_scale
    assert 85 <= top <= 100 and 290 <= left <= 300 and 0 < ink.work_scale < 1


def test_drawn_lines_in_any_stroke_colour_on_white_work():
    image = Image.new("RGB", (200, 200), "white")
    ImageDraw.Draw(image).line([(100, 30), (100, 170)], fill=(20, 40, 200), width=9)
    one = read_digit_image(png_bytes(image))
    assert ink_box(one)[0] == 20 and ink_box(one)[1] <= 3
