"""``mnist-mlops predict``'s work: one record per digit of image, ``.npy`` and ``.csv`` files.

The files are read first (:mod:`mnist_mlops.serving.files`: a bad file fails before any model
is loaded), then the model is loaded the fastest way it allows
(:func:`~mnist_mlops.serving.fast_model.load_classifier`: a registered NumPy-network model
answers without importing MLflow).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mnist_mlops.serving.fast_model import load_classifier
from mnist_mlops.serving.files import read_digits
from mnist_mlops.serving.predict import predict_in_batches


def predict_files(
    model_uri: str, files: list[Path], tracking_uri: str | None = None
) -> list[dict[str, Any]]:
    """Return one record per digit: file, index, digit, confidence and 10 probabilities.

    Args:
        model_uri: The model to load (e.g. ``models:/mnist-classifier@champion``).
        files: Image, ``.npy`` and ``.csv`` files (see :mod:`mnist_mlops.serving.files`).
        tracking_uri: The MLflow store holding the registry (``None``: MLflow's default).

    Returns:
        The records, file by file, digit by digit.

    Raises:
        InputError: A file cannot be read or holds invalid values.
        ModelLoadError: The model cannot be loaded.
    """
    batches = [(path, read_digits(path)) for path in files]
    model = load_classifier(model_uri, tracking_uri)
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
