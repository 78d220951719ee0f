"""Predictions with a logged digit classifier: any number of rows, and files of digits.

* :func:`predict_in_batches` - the one loop over ``model.predict`` for more rows than one call
  accepts (the register stage's scoring and ``mnist-mlops predict`` use it);
* :func:`predict_files` - one record per digit of image, ``.npy`` and ``.csv`` files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import numpy as np

from mnist_mlops.serving.inputs import MAX_ROWS

PREDICT_BATCH = MAX_ROWS  # the most rows one call of the classifier accepts


class Classifier(Protocol):
    """A loaded pyfunc :class:`~mnist_mlops.serving.pyfunc.DigitClassifier`."""

    def predict(self, data: Any) -> Any:
        """Return one ``{"digit", "probabilities"}`` record per row."""
        ...


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


def predict_files(model_uri: str, files: list[Path]) -> list[dict[str, Any]]:
    """Return one record per digit: file, index, digit, confidence and 10 probabilities.

    Args:
        model_uri: The model to load (e.g. ``models:/mnist-classifier@champion``).
        files: Image, ``.npy`` and ``.csv`` files (see :mod:`mnist_mlops.serving.files`).

    Returns:
        The records, file by file, digit by digit.

    Raises:
        InputError: A file cannot be read or holds invalid values.
        ModelLoadError: The model cannot be loaded.
    """
    import mlflow.pyfunc
    from mlflow.exceptions import MlflowException

    from mnist_mlops.errors import ModelLoadError
    from mnist_mlops.serving.files import read_digits

    batches = [(path, read_digits(path)) for path in files]
    try:
        model = mlflow.pyfunc.load_model(model_uri)
    except (MlflowException, OSError) as exc:
        raise ModelLoadError(f"cannot load model {model_uri}: {exc}") from None
    records = []
    for path, rows in batches:
        for index, record in enumerate(predict_in_batches(model, rows)):
            records.append(
                {
                    "file": str(path),
                    "index": index,
                    "digit": int(record["digit"]),
                    "confidence": max(record["probabilities"]),
                    "probabilities": record["probabilities"],
                }
            )
    return records
