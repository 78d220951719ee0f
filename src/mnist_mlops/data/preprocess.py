"""The preprocess stage: validated raw digits to seeded, stratified train/val/test arrays."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from mnist_mlops.artifacts.manifest import RawManifest
from mnist_mlops.artifacts.processed import (
    FEEDBACK_TEST,
    FeedbackUsed,
    ProcessedMeta,
    Split,
    save_splits,
)
from mnist_mlops.config.constants import INPUT_DIM, MAX_PIXEL
from mnist_mlops.config.params import PreprocessConfig
from mnist_mlops.data.raw import RawDataset, load_raw, verify_checksums
from mnist_mlops.errors import DataError
from mnist_mlops.io import atomic_directory

logger = logging.getLogger(__name__)


def stratified_split(
    labels: np.ndarray, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Return sorted ``(kept, held_out)`` indices: ``fraction`` of each class, drawn by ``seed``.

    Raises:
        DataError: A class is too small to put at least one example in each part.
    """
    rng = np.random.default_rng(seed)
    kept, held_out = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        count = int(round(len(members) * fraction))
        if count == 0 or count == len(members):
            raise DataError(
                f"class {int(label)} has {len(members)} examples: too few to split off "
                f"a fraction of {fraction}"
            )
        held_out.append(members[:count])
        kept.append(members[count:])
    return np.sort(np.concatenate(kept)), np.sort(np.concatenate(held_out))


def to_features(images: np.ndarray) -> np.ndarray:
    """Flatten (N, 28, 28) uint8 images to (N, 784) float32 scaled to [0, 1]."""
    return images.reshape(len(images), INPUT_DIM).astype(np.float32) / np.float32(MAX_PIXEL)


def make_splits(raw: RawDataset, config: PreprocessConfig) -> dict[str, Split]:
    """Return the train, val and test splits (the source's test split, else a stratified one)."""
    if raw.x_test is not None and raw.y_test is not None:
        x_pool, y_pool, x_test, y_test = raw.x_train, raw.y_train, raw.x_test, raw.y_test
    else:
        pool_idx, test_idx = stratified_split(raw.y_train, config.test_fraction, config.seed)
        x_pool, y_pool = raw.x_train[pool_idx], raw.y_train[pool_idx]
        x_test, y_test = raw.x_train[test_idx], raw.y_train[test_idx]
    train_idx, val_idx = stratified_split(y_pool, config.val_fraction, config.seed + 1)
    parts = {
        "train": (x_pool[train_idx], y_pool[train_idx]),
        "val": (x_pool[val_idx], y_pool[val_idx]),
        "test": (x_test, y_test),
    }
    return {
        name: Split(to_features(images), labels.astype(np.int32))
        for name, (images, labels) in parts.items()
    }


def with_feedback(
    splits: dict[str, Split], train_part: Split, test_part: Split
) -> dict[str, Split]:
    """Return ``splits``, the feedback's training part added to ``train``.

    The feedback's test part becomes :data:`FEEDBACK_TEST`.
    """
    train = splits["train"]
    joined = Split(np.concatenate([train.x, train_part.x]), np.concatenate([train.y, train_part.y]))
    return {**splits, "train": joined, FEEDBACK_TEST: test_part}


def preprocess(
    config: PreprocessConfig,
    raw_dir: str | Path,
    out_dir: str | Path,
    feedback: tuple[Split, Split, FeedbackUsed] | None = None,
) -> dict[str, Split]:
    """Check ``raw_dir`` against its manifest, write the splits and meta to ``out_dir`` atomically.

    ``feedback`` (:func:`mnist_mlops.data.feedback.feedback_splits`) joins the training split
    and adds :data:`FEEDBACK_TEST`.

    Returns:
        The splits.

    Raises:
        MissingArtifactError: ``raw_dir`` has no manifest (the download stage has not run).
        DataError: The raw files are corrupted or invalid.
    """
    manifest = RawManifest.load(raw_dir)
    verify_checksums(raw_dir, manifest)
    raw = load_raw(raw_dir, manifest)
    splits = make_splits(raw, config)
    if feedback is not None:
        splits = with_feedback(splits, feedback[0], feedback[1])
    meta = ProcessedMeta(
        source=manifest.source,
        official_test_split=raw.x_test is not None,
        counts={name: len(split.y) for name, split in splits.items()},
        seed=config.seed,
        feedback=feedback[2] if feedback is not None else None,
    )
    with atomic_directory(out_dir) as folder:
        save_splits(splits, folder)
        meta.save(folder)
    logger.info("splits: %s", meta.counts)
    return splits
