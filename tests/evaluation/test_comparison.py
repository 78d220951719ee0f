from math import comb, sqrt

import numpy as np
import pytest

from mnist_mlops.artifacts.metrics import CourseComparison
from mnist_mlops.errors import DataError
from mnist_mlops.evaluation.comparison import compare_with_course


def predictions(n: int, both: int, trained_only: int, course_only: int):
    """Labels and two models' digits: right together on ``both``, alone on the others."""
    rng = np.random.default_rng(1)
    actual = rng.integers(0, 10, n)
    wrong = (actual + 1) % 10
    trained, course = wrong.copy(), wrong.copy()
    trained[: both + trained_only] = actual[: both + trained_only]
    course[:both] = actual[:both]
    course[both + trained_only : both + trained_only + course_only] = actual[
        both + trained_only : both + trained_only + course_only
    ]
    order = rng.permutation(n)
    return actual[order], trained[order], course[order]


def exact_mcnemar(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value: binomial(b + c, 1/2) tails at least as far as b."""
    n, low = b + c, min(b, c)
    tail = sum(comb(n, k) for k in range(low + 1)) / 2**n
    return min(1.0, 2 * tail)


def test_a_better_trained_model_gets_the_paired_margin_interval_and_mcnemar():
    actual, trained, course = predictions(2000, both=1800, trained_only=60, course_only=20)
    result = compare_with_course(actual, trained, course)
    assert result.test_images == 2000
    assert (result.trained_accuracy, result.course_accuracy) == (0.93, 0.91)
    assert result.margin == pytest.approx(0.02)
    assert (result.trained_only_right, result.course_only_right) == (60, 20)
    assert result.mcnemar_p == pytest.approx(exact_mcnemar(60, 20), rel=1e-6)
    # the paired interval: about 1.96 standard errors of the per-image differences each side
    standard_error = sqrt((60 + 20) / 2000 - 0.02**2) / sqrt(2000)
    assert result.margin_low < 0.02 < result.margin_high
    assert result.margin_high - result.margin_low == pytest.approx(
        2 * 1.96 * standard_error, rel=0.1
    )
    assert result.verdict() == "better" and result.confidence == 0.95
    again = compare_with_course(actual, trained, course)
    assert again == result  # seeded: the same record for the same predictions


def test_the_same_margin_on_few_images_is_undecided_and_a_loss_is_worse():
    small = compare_with_course(*predictions(200, both=180, trained_only=6, course_only=2))
    assert small.margin == pytest.approx(0.02)
    assert small.margin_low <= 0 < small.margin_high and small.verdict() == "undecided"
    assert small.mcnemar_p == pytest.approx(exact_mcnemar(6, 2), rel=1e-6)
    actual, trained, course = predictions(2000, both=1800, trained_only=20, course_only=60)
    assert compare_with_course(actual, trained, course).verdict() == "worse"


def test_identical_predictions_have_no_margin_and_no_evidence():
    actual, trained, _ = predictions(500, both=400, trained_only=50, course_only=0)
    result = compare_with_course(actual, trained, trained.copy())
    assert (result.margin, result.margin_low, result.margin_high) == (0.0, 0.0, 0.0)
    assert result.mcnemar_p == 1.0 and result.verdict() == "undecided"


def test_predictions_of_another_test_split_are_refused(tmp_path):
    actual, trained, course = predictions(100, both=80, trained_only=5, course_only=5)
    with pytest.raises(
        DataError, match=r"100 test labels, 100 .* and 99 of the course run.*baselines"
    ):
        compare_with_course(actual, trained, course[:99])
    with pytest.raises(DataError, match="non-empty"):
        compare_with_course(actual[:0], trained[:0], course[:0])
    record = compare_with_course(actual, trained, course)
    record.write(tmp_path / "record")
    assert CourseComparison.read(tmp_path / "record") == record
