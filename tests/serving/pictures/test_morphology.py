import numpy as np
import pytest
from scipy import ndimage

from mnist_mlops.serving.pictures import morphology

RNG = np.random.default_rng(0)
IMAGE = (RNG.random((37, 53)) * 255).astype(np.float32)
CROSS = ndimage.generate_binary_structure(2, 1)


@pytest.mark.parametrize("trial", range(40))
def test_labels_areas_and_boxes_are_scipys(trial):
    rng = np.random.default_rng(trial)
    mask = rng.random((int(rng.integers(1, 60)), int(rng.integers(1, 60)))) < rng.uniform(0, 0.7)
    expected, count = ndimage.label(mask, structure=np.ones((3, 3)))
    labels, areas, boxes = morphology.label(mask)
    np.testing.assert_array_equal(labels, expected)
    assert len(areas) == len(boxes) == count
    np.testing.assert_array_equal(areas, np.bincount(expected.ravel(), minlength=count + 1)[1:])
    objects = [
        [s[0].start, s[1].start, s[0].stop, s[1].stop] for s in ndimage.find_objects(expected)
    ]
    np.testing.assert_array_equal(boxes.reshape(-1, 4), np.array(objects).reshape(-1, 4))


def test_diagonal_neighbours_are_connected():
    mask = np.eye(5, dtype=bool) | np.eye(5, dtype=bool)[::-1]
    assert len(morphology.label(mask)[1]) == 1


@pytest.mark.parametrize("sigma", [0.3, 1.0, 2.5])
def test_gaussian_blur_is_scipys(sigma):
    np.testing.assert_allclose(
        morphology.gaussian_blur(IMAGE, sigma), ndimage.gaussian_filter(IMAGE, sigma), atol=1e-3
    )


def test_filters_grow_shrink_and_centre_are_scipys():
    small = IMAGE[:24, :24]
    np.testing.assert_allclose(
        morphology.percentile_filter(small, 25, 9),
        ndimage.percentile_filter(small, 25, size=9, mode="reflect"),
    )
    np.testing.assert_allclose(
        morphology.box_blur(IMAGE, 5), ndimage.uniform_filter(IMAGE, 5, mode="reflect"), atol=1e-3
    )
    grown = ndimage.grey_dilation(IMAGE, footprint=CROSS, mode="constant")
    np.testing.assert_array_equal(morphology.grow(IMAGE), grown)
    shrunk = ndimage.grey_erosion(IMAGE, footprint=CROSS, mode="constant")
    np.testing.assert_array_equal(morphology.shrink(IMAGE), shrunk)
    np.testing.assert_allclose(morphology.centre_of_mass(IMAGE), ndimage.center_of_mass(IMAGE))
