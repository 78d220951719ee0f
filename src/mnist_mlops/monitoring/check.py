"""The monitor's verdict on a window of served predictions against the reference."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mnist_mlops.config.params import MonitorConfig
from mnist_mlops.feedback.store import PredictionRecord
from mnist_mlops.monitoring.drift import DriftTest, class_test, distribution_test
from mnist_mlops.monitoring.estimate import (
    AccuracyEstimate,
    ConfidenceCalibration,
    measured_accuracy,
)
from mnist_mlops.monitoring.inputs import INPUT_STATISTICS, input_statistics
from mnist_mlops.monitoring.reference import Reference

# Exit codes of `mnist-mlops monitor` (1 and 2 are the command line's errors)
NO_DRIFT, DRIFT, TOO_FEW = 0, 3, 4


@dataclass(frozen=True)
class Window:
    """The predictions checked: digits, confidence, input statistics, labels where given."""

    digits: np.ndarray
    confidence: np.ndarray
    inputs: dict[str, np.ndarray]
    labelled: np.ndarray  # (N,) bool
    labels: np.ndarray  # the labels of the labelled ones
    first: float
    last: float

    @classmethod
    def of(cls, records: Sequence[PredictionRecord]) -> Window:
        """The window of ``records`` (at least one)."""
        labelled = np.array([record.label is not None for record in records])
        return cls(
            digits=np.array([record.digit for record in records]),
            confidence=np.array([record.confidence for record in records]),
            inputs=input_statistics(np.stack([record.image() for record in records])),
            labelled=labelled,
            labels=np.array([r.label for r in records if r.label is not None], dtype=int),
            first=records[0].created_at,
            last=records[-1].created_at,
        )


@dataclass(frozen=True)
class Verdict:
    """The tests, the accuracy estimated and measured, and the exit code they lead to."""

    count: int
    tests: list[DriftTest]
    estimate: AccuracyEstimate | None
    measured: float | None
    accuracy_drop: bool
    code: int


def check(reference: Reference, window: Window | None, config: MonitorConfig) -> Verdict:
    """Compare ``window`` with ``reference`` under ``config``'s thresholds.

    Returns:
        A :class:`Verdict`; its ``code`` is :data:`TOO_FEW` for fewer than
        ``config.min_predictions`` predictions (no tests run), :data:`DRIFT` when a test or the
        estimated accuracy's drop passes its threshold, else :data:`NO_DRIFT`.
    """
    count = 0 if window is None else len(window.digits)
    if window is None or count < config.min_predictions:
        return Verdict(count, [], None, None, False, TOO_FEW)
    tests = [
        class_test(reference.digits, window.digits, config.p_value, config.min_effect),
        distribution_test(
            "confidence", reference.confidence, window.confidence, config.p_value, config.min_effect
        ),
        *(
            distribution_test(
                name, reference.inputs[name], window.inputs[name], config.p_value, config.min_effect
            )
            for name in INPUT_STATISTICS
        ),
    ]
    calibration = ConfidenceCalibration(reference.confidence, reference.correct)
    estimate = calibration.estimate(window.confidence)
    dropped = estimate.reference - estimate.estimated > config.max_accuracy_drop
    measured = measured_accuracy(window.digits[window.labelled], window.labels)
    drifted = dropped or any(test.drifted for test in tests)
    return Verdict(count, tests, estimate, measured, dropped, DRIFT if drifted else NO_DRIFT)
