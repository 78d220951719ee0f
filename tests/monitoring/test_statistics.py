"""The monitor's building blocks on distributions whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_mlops.monitoring.drift import class_test, distribution_test
from mnist_mlops.monitoring.estimate import ConfidenceCalibration, measured_accuracy
from mnist_mlops.monitoring.inputs import input_statistics


def test_ink_and_centre_of_mass_of_drawn_squares():
    images = np.zeros((3, 28, 28), np.uint8)
    images[0, 2:6, 20:24] = 255  # a 4x4 square: rows 2-5, columns 20-23
    images[1] = 255
    as_floats = images.reshape(3, -1) / 255.0  # the same digits as the model reads them
    for pixels in (images, as_floats):
        found = input_statistics(pixels)
        np.testing.assert_allclose(found["ink"], [16 / 784, 1.0, 0.0])
        np.testing.assert_allclose(found["centre_row"], [3.5, 13.5, 13.5])
        np.testing.assert_allclose(found["centre_column"], [21.5, 13.5, 13.5])


def test_the_class_test_flags_a_changed_mix_of_digits_and_not_a_resample():
    rng = np.random.default_rng(0)
    reference = rng.integers(0, 10, 5000)
    assert not class_test(reference, rng.integers(0, 10, 1000), 0.01, 0.1).drifted
    mostly_ones = np.where(rng.random(1000) < 0.5, 1, rng.integers(0, 10, 1000))
    changed = class_test(reference, mostly_ones, 0.01, 0.1)
    assert changed.drifted and changed.p_value < 1e-10 and changed.effect > 0.3


def test_a_significant_but_tiny_difference_is_not_drift():
    rng = np.random.default_rng(1)
    reference, shifted = rng.normal(0, 1, 200_000), rng.normal(0.05, 1, 200_000)
    result = distribution_test("ink", reference, shifted, 0.01, 0.1)
    assert result.p_value < 1e-10 and result.effect < 0.1 and not result.drifted
    assert distribution_test("ink", reference, shifted + 1, 0.01, 0.1).drifted


def test_calibrated_confidence_estimates_the_accuracy_of_a_new_mix():
    rng = np.random.default_rng(2)
    # An overconfident model: the answer is right with chance confidence**3.
    confidence = rng.uniform(0.3, 1.0, 20_000)
    correct = rng.random(20_000) < confidence**3
    calibration = ConfidenceCalibration(confidence, correct)
    harder = rng.uniform(0.3, 0.7, 2000)  # new traffic the model is less sure of
    truth = rng.random(2000) < harder**3
    estimate = calibration.estimate(harder)
    assert estimate.reference == pytest.approx(correct.mean())
    assert abs(estimate.estimated - truth.mean()) < 3 * estimate.standard_error + 0.01
    assert estimate.estimated < harder.mean() - 0.1  # not the raw, overconfident mean
    assert measured_accuracy(np.array([1, 2, 3]), np.array([1, 2, 4])) == pytest.approx(2 / 3)
    assert measured_accuracy(np.array([]), np.array([])) is None
