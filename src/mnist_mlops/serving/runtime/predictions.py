"""The classifier's answer: one row per digit, the digit and its ten probabilities as columns.

:func:`digit_frame` builds it from the network's ``(N, 10)`` probabilities without a Python
loop per row; the pyfunc model (:mod:`.pyfunc`) and its MLflow-free twin (:mod:`.fast_model`)
both return it. As JSON (MLflow's scoring server writes a DataFrame as records) each
prediction reads ``{"digit": 7, "probability_0": ..., ..., "probability_9": ...}``.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from mnist_mlops.config.constants import NUM_CLASSES

if TYPE_CHECKING:
    import pandas as pd

DIGIT_COLUMN = "digit"
PROBABILITY_COLUMNS = tuple(f"probability_{digit}" for digit in range(NUM_CLASSES))


class Classifier(Protocol):
    """A loaded pyfunc :class:`~.pyfunc.DigitClassifier` (or its MLflow-free twin)."""

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
    frame = pd.DataFrame(values, columns=_probability_index(), copy=False)
    frame.insert(0, DIGIT_COLUMN, values.argmax(axis=1).astype(np.int64))
    return frame


def probabilities_of(frame: pd.DataFrame) -> np.ndarray:
    """Return the ``(N, 10)`` probabilities of a :func:`digit_frame`."""
    return frame.loc[:, _probability_index()].to_numpy()


@functools.cache
def _probability_index() -> pd.Index:
    """The probability columns as one plain Index, built once: a one-digit answer costs half."""
    import pandas as pd

    return pd.Index(PROBABILITY_COLUMNS, dtype=object)


def probability_records(probabilities: np.ndarray) -> list[dict[str, Any]]:
    """Return the JSON records of :func:`digit_frame` straight from its ``(N, 10)`` input.

    What MLflow's scoring server writes for the frame, without building it (a one-digit
    answer of ``mnist-mlops serve`` costs a DataFrame's construction more than the network).
    """
    values = np.asarray(probabilities)
    digits = values.argmax(axis=1).tolist()
    rows = values.astype(np.float64).tolist()
    return [
        {DIGIT_COLUMN: digit, **dict(zip(PROBABILITY_COLUMNS, row, strict=True))}
        for digit, row in zip(digits, rows, strict=True)
    ]
