"""Predictions with a logged digit classifier: its records, and any number of rows.

* :func:`digit_records` - the classifier's answer for class probabilities (one record per
  digit), shared by the pyfunc model and its MLflow-free twin (:mod:`.fast_model`);
* :func:`predict_in_batches` - the one loop over ``model.predict`` for more rows than one call
  accepts (the register stage's scoring and ``mnist-mlops predict`` use it).
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from mnist_mlops.serving.inputs import MAX_ROWS

PREDICT_BATCH = MAX_ROWS  # the most rows one call of the classifier accepts


class Classifier(Protocol):
    """A loaded pyfunc :class:`~mnist_mlops.serving.pyfunc.DigitClassifier`."""

    def predict(self, data: Any) -> Any:
        """Return one ``{"digit", "probabilities"}`` record per row."""
        ...


def digit_records(probabilities: np.ndarray) -> list[dict[str, Any]]:
    """Return one ``{"digit": int, "probabilities": [10 floats]}`` record per row.

    Plain records, not a DataFrame: building and serialising a one-row DataFrame would cost
    more than the whole forward pass.

    Args:
        probabilities: ``(N, 10)`` class probabilities.

    Returns:
        The records, with the probabilities as Python floats (float64).
    """
    values = np.asarray(probabilities, dtype=np.float64)
    digits = values.argmax(axis=1).tolist()
    return [
        {"digit": digit, "probabilities": row}
        for digit, row in zip(digits, values.tolist(), strict=True)
    ]


def predict_in_batches(
    model: Classifier, rows: np.ndarray, batch: int = PREDICT_BATCH
) -> list[dict[str, Any]]:
    """Return the classifier's record for every row, calling it on ``batch`` rows at a time.

    Args:
        model: The loaded pyfunc classifier.
        rows: ``(N, 784)`` digits.
        batch: Rows per call (at most what one call accepts).

    Returns:
        One ``{"digit": int, "probabilities": [10 floats]}`` record per row, in order.
    """
    records: list[dict[str, Any]] = []
    for start in range(0, len(rows), batch):
        records.extend(model.predict(rows[start : start + batch]))
    return records
