"""Accuracy without labels from the model's confidence, and measured where labels exist.

The estimate is confidence-based performance estimation (NannyML's CBPE).

The top probability is calibrated on reference digits with labels (isotonic regression of
"the answer was right" on the confidence, scikit-learn); the expected accuracy of digits
without labels is then the mean calibrated confidence. This holds while the relation between
confidence and correctness stays as in the reference (no concept shift); inputs unlike the
reference (another kind of picture) are what the drift tests catch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.isotonic import IsotonicRegression


@dataclass(frozen=True)
class AccuracyEstimate:
    """The estimated accuracy, its standard error, and the reference's own accuracy."""

    estimated: float
    standard_error: float
    reference: float


class ConfidenceCalibration:
    """The chance that an answer is right, given its confidence, learnt on reference digits."""

    def __init__(self, confidence: np.ndarray, correct: np.ndarray) -> None:
        """Fit on reference ``confidence`` (N,) and whether each answer was ``correct`` (N,)."""
        self.reference_accuracy = float(np.mean(correct))
        self.regression = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
        self.regression.fit(np.asarray(confidence, float), np.asarray(correct, float))

    def estimate(self, confidence: np.ndarray) -> AccuracyEstimate:
        """Return the expected accuracy of answers with ``confidence`` (N,), N > 0.

        The standard error is that of a sum of independent Bernoulli outcomes with the
        calibrated chances (the sampling error of the estimate; calibration error not counted).
        """
        chances = self.regression.predict(np.asarray(confidence, float))
        error = float(np.sqrt(np.sum(chances * (1 - chances))) / len(chances))
        return AccuracyEstimate(float(chances.mean()), error, self.reference_accuracy)


def measured_accuracy(digits: np.ndarray, labels: np.ndarray) -> float | None:
    """The share of ``digits`` equal to their ``labels`` (``None`` without labels)."""
    return float(np.mean(np.asarray(digits) == np.asarray(labels))) if len(labels) else None
