"""The classifier's answer: one row per digit, ``digit`` then ``probability_0`` ... ``_9``."""

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
    """Return ``(N, 10)`` probabilities (dtype kept) as a frame: ``digit`` (int64), then them."""
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
    """The probability columns as one plain Index, built once."""
    import pandas as pd

    return pd.Index(PROBABILITY_COLUMNS, dtype=object)


def probability_records(probabilities: np.ndarray) -> list[dict[str, Any]]:
    """Return the JSON records MLflow writes for :func:`digit_frame`, without building it."""
    values = np.asarray(probabilities)
    digits = values.argmax(axis=1).tolist()
    rows = values.astype(np.float64).tolist()
    return [
        {DIGIT_COLUMN: digit, **dict(zip(PROBABILITY_COLUMNS, row, strict=True))}
        for digit, row in zip(digits, rows, strict=True)
    ]
