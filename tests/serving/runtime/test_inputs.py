import numpy as np
import pandas as pd
import pytest

from mnist_mlops.errors import InputError
from mnist_mlops.serving.runtime.inputs import to_pixel_rows


def test_rows_images_and_dataframes_become_rows_in_unit_range():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(3, 28, 28))
    scaled = images.reshape(3, 784) / 255.0
    expected = scaled.astype(np.float32)
    np.testing.assert_allclose(to_pixel_rows(images), expected, rtol=1e-6)
    np.testing.assert_allclose(to_pixel_rows(images[0]), expected[:1], rtol=1e-6)
    np.testing.assert_allclose(to_pixel_rows(scaled), expected, rtol=1e-6)
    np.testing.assert_allclose(to_pixel_rows(scaled[0].tolist()), expected[:1], rtol=1e-6)
    np.testing.assert_allclose(to_pixel_rows(pd.DataFrame(images.reshape(3, 784))), expected)
    assert to_pixel_rows(scaled).dtype == np.float32


def test_each_row_is_scaled_on_its_own():
    rows = np.zeros((2, 784))
    rows[0, 0], rows[1, 0] = 255, 0.5
    np.testing.assert_allclose(to_pixel_rows(rows)[:, 0], [1.0, 0.5])


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (np.zeros((0, 784)), "empty"),
        ([], "empty"),
        (np.zeros((2, 100)), "shape (2, 100)"),
        (np.zeros((2, 28, 27)), "allowed: (784,)"),
        (np.full((1, 784), np.nan), "finite"),
        (np.full((1, 784), np.inf), "finite"),
        (np.full((1, 784), -0.5), "[-0.5, -0.5]"),
        (np.full((1, 784), 256.0), "raw pixels in [0, 255]"),
        ([["a"] * 784], "must be numbers, got strings"),
        ([[True] * 784], "got booleans"),
        ([[0.1] * 784, [0.2] * 5], "rectangular"),
        (np.zeros((1001, 784)), "at most 1000"),
        ([[10**400] + [0] * 783], "beyond ±1.8e308"),  # JSON integers Python keeps exact
        ([[2**70] + [0] * 783], "[0, 1.18059e+21]"),  # beyond 64 bits, within a float
        ([[1e300] * 784], "is inf (as a 32-bit float)"),
        ([[None] * 784], "must be numbers"),
    ],
)
def test_bad_input_names_the_problem(values, message):
    with pytest.raises(InputError, match=None) as error:
        to_pixel_rows(values)
    assert message in str(error.value)
