"""Labelled predictions of real non-MNIST handwriting (scikit-learn's UCI digits) in a store."""

from __future__ import annotations

import uuid

import numpy as np

from mnist_mlops.feedback.store import PredictionRecord, PredictionStore, pixels_of


def uci_pictures(count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``count`` UCI digits (as many of each class as can be), normalised as the server does:
    ``(count, 28, 28)`` uint8 pictures and their labels."""
    from sklearn.datasets import load_digits

    from mnist_mlops.evaluation.photos import uci_digits
    from mnist_mlops.serving.pictures.images import normalise_digit

    digits = load_digits()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(digits.target))
    picked: list[int] = []
    per_class = dict.fromkeys(range(10), 0)
    for index in order:
        label = int(digits.target[index])
        if per_class[label] < -(-count // 10) and len(picked) < count:
            picked.append(index)
            per_class[label] += 1
    images = uci_digits(digits.images[picked])
    pictures = np.stack([normalise_digit(np.rint(image * 255)) for image in images])
    return pictures.astype(np.uint8), digits.target[picked].astype(np.int64)


def prediction_record(
    pixels: np.ndarray,
    digit: int,
    created_at: float,
    confidence: float = 0.82,
    version: str = "1",
    source: str = "picture",
) -> PredictionRecord:
    """A recorded answer ``digit`` (``confidence``, the rest shared) for ``pixels`` in [0, 1]."""
    probabilities = np.full(10, round((1 - confidence) / 9, 6))  # as the store keeps them
    probabilities[digit] = confidence
    return PredictionRecord(
        prediction_id=uuid.uuid4().hex,
        created_at=created_at,
        model_name="mnist-classifier",
        model_version=version,
        model_alias="champion",
        source=source,
        digit=digit,
        confidence=confidence,
        probabilities=tuple(float(p) for p in probabilities),
        pixels=pixels_of(pixels),
        latency_ms=1.0,
    )


def labelled_predictions(
    store: PredictionStore, pictures: np.ndarray, labels: np.ndarray, start: float = 1e9
) -> list[str]:
    """Record one wrong prediction per picture, then label each with its true digit; return
    the prediction ids (in the order of ``pictures``)."""
    records = [
        prediction_record(picture / 255, (int(label) + 1) % 10, start + index)  # wrong answers
        for index, (picture, label) in enumerate(zip(pictures, labels, strict=True))
    ]
    store.insert(records)
    store.add_feedback(
        [(r.prediction_id, int(label)) for r, label in zip(records, labels, strict=True)]
    )
    return [r.prediction_id for r in records]
