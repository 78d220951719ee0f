"""The classifier's answer: one row per digit, the digit and its ten probabilities as columns.

:func:`digit_frame` builds it from the network's ``(N, 10)`` probabilities without a Python
loop per row; the pyfunc model (:mod:`.pyfunc`) and its MLflow-free twin (:mod:`.fast_model`)
both return it. As JSON (MLflow's scoring server writes a DataFrame as records) each
prediction reads ``{"digit": 7, "probability_0": ..., ..., "probability_9": ...}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from mnist_mlops.config.constants import NUM_CLASSES

if TYPE_CHECKING:
    import pandas as pd

DIGIT_COLUMN = "digit"
PROBABILITY_COLUMNS = tuple(f"probability_{digit}" for digit in range(NUM_CLASSES))


class Classifier(Protocol):
    """A loaded pyfunc :class:`~mnist_mlops.serving.pyfunc.DigitClassifier` (or its twin)."""

    def predict(self, data: Any) -> Any:
        """Return a :func:`digit_frame` of the rows."""
        ...


def digit_frame(probabilities: np.ndarray) -> pd.DataFrame:
    """Return the predictions as a DataFrame: ``digit`` (int64), then ``probability_0..9``.

    Args:
        probabilities: ``(N, 10)`` class probabilities (float32 stays float32).

    Returns:
        One row per digit.
    """
    import pandas as pd

    values = np.asarray(probabilities)
    frame = pd.DataFrame(values, columns=list(PROBABILITY_COLUMNS), copy=False)
    frame.insert(0, DIGIT_COLUMN, values.argmax(axis=1).astype(np.int64))
    return frame


def probabilities_of(frame: pd.DataFrame) -> np.ndarray:
    """Return the ``(N, 10)`` probabilities of a :func:`digit_frame`."""
    return frame[list(PROBABILITY_COLUMNS)].to_numpy()


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Return the rows as JSON-ready dicts with Python numbers, as MLflow's server writes them."""
    digits = frame[DIGIT_COLUMN].tolist()
    probabilities = probabilities_of(frame).astype(np.float64).tolist()
    return [
        {DIGIT_COLUMN: digit, **dict(zip(PROBABILITY_COLUMNS, row, strict=True))}
        for digit, row in zip(digits, probabilities, strict=True)
    ]
