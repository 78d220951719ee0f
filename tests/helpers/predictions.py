"""Read predictions the way clients do: JSON records and the pyfunc model's DataFrame."""

from __future__ import annotations

import numpy as np

from mnist_mlops.serving.runtime.predictions import PROBABILITY_COLUMNS


def record_probabilities(records: list[dict]) -> np.ndarray:
    """The ``(N, 10)`` probabilities of JSON prediction records (``probability_0`` ...)."""
    return np.array([[record[column] for column in PROBABILITY_COLUMNS] for record in records])


def record_digits(records: list[dict]) -> list[int]:
    """The predicted digit of each JSON record."""
    return [record["digit"] for record in records]
