"""The trained model against the course reference run on the same test images (paired).

Paired bootstrap interval of the accuracy difference over the test images, and the exact
McNemar test on the images the two models disagree about (scipy.stats.binomtest).
"""

from __future__ import annotations

import logging

import numpy as np

from mnist_mlops.artifacts.metrics import CourseComparison
from mnist_mlops.errors import DataError

logger = logging.getLogger(__name__)

CONFIDENCE = 0.95
DRAWS = 10_000


def compare_with_course(
    actual: np.ndarray,
    trained: np.ndarray,
    course: np.ndarray,
    draws: int = DRAWS,
    seed: int = 0,
) -> CourseComparison:
    """Compare the trained model's and the course run's predicted digits for ``actual``.

    The bootstrap draws the test images with replacement ``draws`` times (``seed``); as each
    image's difference in correctness is -1, 0 or +1, a draw is a multinomial of their counts.

    Raises:
        DataError: The three arrays differ in length, or are empty (the course predictions
            are of another test split: re-run the baselines stage).
    """
    actual, trained, course = (np.asarray(a).ravel() for a in (actual, trained, course))
    if not len(actual) == len(trained) == len(course) or len(actual) == 0:
        raise DataError(
            f"cannot compare on {len(actual)} test labels, {len(trained)} predictions of the "
            f"trained model and {len(course)} of the course run: all three must be the same "
            "non-empty test split; re-run the baselines stage (dvc repro baselines)"
        )
    from scipy.stats import binomtest

    trained_right, course_right = trained == actual, course == actual
    trained_only = int(np.sum(trained_right & ~course_right))
    course_only = int(np.sum(course_right & ~trained_right))
    n = len(actual)
    shares = np.array([course_only, n - trained_only - course_only, trained_only]) / n
    counts = np.random.default_rng(seed).multinomial(n, shares, size=draws)
    margins = (counts[:, 2] - counts[:, 0]) / n
    tail = (1 - CONFIDENCE) / 2
    low, high = np.quantile(margins, [tail, 1 - tail])
    discordant = trained_only + course_only
    p_value = binomtest(trained_only, discordant).pvalue if discordant else 1.0
    comparison = CourseComparison(
        test_images=n,
        trained_accuracy=float(trained_right.mean()),
        course_accuracy=float(course_right.mean()),
        margin=(trained_only - course_only) / n,
        margin_low=float(low),
        margin_high=float(high),
        confidence=CONFIDENCE,
        bootstrap_draws=draws,
        trained_only_right=trained_only,
        course_only_right=course_only,
        mcnemar_p=float(p_value),
    )
    logger.info(
        "trained - course: %+.4f (%.0f %% interval %+.4f to %+.4f), McNemar p %.3g",
        comparison.margin,
        100 * CONFIDENCE,
        low,
        high,
        p_value,
    )
    return comparison
