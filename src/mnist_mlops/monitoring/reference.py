"""The reference a window of served predictions is compared with: the training data.

Inputs: the train split of ``data/processed`` (what the model learnt from). The model's
answers: the validation split scored by the same model, with its labels; held-out digits,
because the model's confidence on the digits it was fit on is higher than on any new ones.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnist_mlops.artifacts.processed import load_splits
from mnist_mlops.monitoring.inputs import input_statistics
from mnist_mlops.serving.runtime.predictions import Classifier, probabilities_of

logger = logging.getLogger(__name__)

REFERENCE_ROWS = 20_000  # train digits whose input statistics are kept (a seeded sample)


@dataclass(frozen=True)
class Reference:
    """Train-split input statistics; the model's answers on the validation split.

    ``digits``, ``confidence`` and ``correct`` (whether the answer was right) per digit.
    """

    inputs: dict[str, np.ndarray]
    digits: np.ndarray
    confidence: np.ndarray
    correct: np.ndarray


def build_reference(processed_dir: Path, classifier: Classifier) -> Reference:
    """Score the validation split with ``classifier``; summarise the train split's inputs.

    Raises:
        MissingArtifactError: ``processed_dir`` lacks the splits (run the preprocess stage).
    """
    splits = load_splits(processed_dir, ("train", "val"))
    train, val = splits["train"].x, splits["val"]
    if len(train) > REFERENCE_ROWS:
        train = train[np.random.default_rng(0).choice(len(train), REFERENCE_ROWS, replace=False)]
    probabilities = probabilities_of(classifier.predict(val.x))
    digits = probabilities.argmax(axis=1)
    logger.info("reference: %d train digits, %d validation digits scored", len(train), len(digits))
    return Reference(
        inputs=input_statistics(train),
        digits=digits,
        confidence=probabilities.max(axis=1),
        correct=digits == val.y,
    )
