"""The labelled feedback snapshot as two splits: the part to train on and ``feedback_test``.

Each prediction's side is drawn from a seeded hash of its id, so it keeps its side as feedback
grows: a champion never trained on a digit that a later snapshot puts in ``feedback_test``
(docs/decisions/feedback-split.md). Where a class has two or more pictures but none drawn for the
test, its most recently labelled one (never trained on) is kept apart.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np

from mnist_mlops.artifacts.processed import FeedbackUsed, Split
from mnist_mlops.config.params import FeedbackConfig
from mnist_mlops.data.preprocess import to_features
from mnist_mlops.errors import DataError
from mnist_mlops.feedback.snapshot import FeedbackManifest, load_snapshot

logger = logging.getLogger(__name__)

HASH_SPAN = 2.0**64


def drawn_for_test(prediction_id: str, fraction: float, seed: int) -> bool:
    """Whether ``prediction_id`` falls in the test share ``fraction`` (seeded, uniform)."""
    value = int.from_bytes(hashlib.sha256(f"{seed}:{prediction_id}".encode()).digest()[:8], "big")
    return value / HASH_SPAN < fraction


def held_out_mask(manifest: FeedbackManifest, fraction: float, seed: int) -> np.ndarray:
    """Return, per manifest entry, whether it belongs to ``feedback_test``."""
    entries = manifest.entries
    mask = np.array([drawn_for_test(e.prediction_id, fraction, seed) for e in entries], bool)
    labels = np.array([e.label for e in entries], np.int64)
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        if fraction > 0 and len(members) >= 2 and not mask[members].any():
            newest = max(members, key=lambda index: (entries[index].labelled_at, index))
            mask[newest] = True
    return mask


def feedback_splits(
    config: FeedbackConfig, folder: Path
) -> tuple[Split, Split, FeedbackUsed] | None:
    """Return the snapshot's training part, its ``feedback_test`` split and what was used.

    ``None`` when ``config.use`` is false, or ``auto`` and the snapshot is missing or empty.

    Raises:
        MissingArtifactError: ``config.use`` is true and ``folder`` has no snapshot.
        DataError: ``config.use`` is true but there is no labelled picture in ``folder``, or
            a picture of the snapshot is missing or changed.
    """
    if config.use is False:
        return None
    if not FeedbackManifest.path(folder).is_file() and config.use == "auto":
        return None
    manifest, images = load_snapshot(folder)
    if not manifest.entries:
        if config.use is True:
            raise DataError(
                f"feedback.use is true but {folder} holds no labelled picture: label some "
                "predictions first, or set feedback.use to auto or false"
            )
        return None
    test = held_out_mask(manifest, config.test_fraction, config.seed)
    labels = np.array([e.label for e in manifest.entries], np.int32)
    x = to_features(images)
    train_part, test_part = Split(x[~test], labels[~test]), Split(x[test], labels[test])
    used = FeedbackUsed(sha256=manifest.sha256, train=len(train_part.y), test=len(test_part.y))
    logger.info(
        "feedback %s: %d to train on, %d kept for the test", used.sha256[:16], used.train, used.test
    )
    return train_part, test_part, used
