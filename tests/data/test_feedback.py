"""The labelled feedback in the processed splits: a seeded, stable, class-aware test share."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mnist_mlops.artifacts.feedback import FeedbackEntry, FeedbackManifest
from mnist_mlops.artifacts.processed import FEEDBACK_TEST, ProcessedMeta, load_splits
from mnist_mlops.config.params import DataConfig, FeedbackConfig, PreprocessConfig
from mnist_mlops.config.paths import ProjectPaths
from mnist_mlops.data.download import download
from mnist_mlops.data.feedback import feedback_splits, held_out_mask
from mnist_mlops.data.preprocess import preprocess
from mnist_mlops.errors import DataError
from mnist_mlops.feedback.snapshot import snapshot_store
from mnist_mlops.feedback.store import PredictionStore
from tests.helpers.feedback import labelled_predictions, uci_pictures


def manifest_of(labels: list[int], start: int = 0) -> FeedbackManifest:
    entries = [
        FeedbackEntry(
            prediction_id=f"p{start + index:05d}",
            label=label,
            predicted=0,
            model_version="1",
            labelled_at=float(start + index),
            sha256="0" * 64,
        )
        for index, label in enumerate(labels)
    ]
    return FeedbackManifest(sha256="1" * 64, entries=entries)


def test_the_share_is_seeded_near_the_fraction_and_has_every_class_with_two_pictures():
    labels = np.random.default_rng(0).integers(0, 10, 600).tolist()
    mask = held_out_mask(manifest_of(labels), 0.2, seed=42)
    assert 0.15 < mask.mean() < 0.25
    assert np.array_equal(mask, held_out_mask(manifest_of(labels), 0.2, seed=42))
    assert not np.array_equal(mask, held_out_mask(manifest_of(labels), 0.2, seed=43))
    few = [3, 3, 5, 7, 7, 7]  # small classes: one of each class with two or more kept apart
    small = held_out_mask(manifest_of(few), 0.2, seed=42)
    held = {label for label, kept in zip(few, small, strict=True) if kept}
    assert {3, 7} <= held and small.sum() < len(few)
    assert not held_out_mask(manifest_of(few), 0.0, seed=42).any()


def test_no_picture_trained_on_moves_to_the_test_share_as_feedback_grows():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 10, 20).tolist()
    for _ in range(15):  # each round: a few more labels, as users give them
        before = held_out_mask(manifest_of(labels), 0.2, seed=42)
        labels += rng.integers(0, 10, int(rng.integers(1, 8))).tolist()
        after = held_out_mask(manifest_of(labels), 0.2, seed=42)
        assert not (after[: len(before)] & ~before).any()


@pytest.fixture
def snapshot(tmp_path: Path) -> tuple[Path, np.ndarray, np.ndarray]:
    url = f"sqlite:///{tmp_path / 'predictions.db'}"
    store = PredictionStore(url)
    pictures, labels = uci_pictures(30)
    labelled_predictions(store, pictures, labels)
    store.close()
    snapshot_store(url, tmp_path / "feedback")
    return tmp_path / "feedback", pictures, labels


def test_the_splits_hold_every_picture_once_and_follow_feedback_use(snapshot, tmp_path):
    folder, pictures, labels = snapshot
    train, test, used = feedback_splits(FeedbackConfig(), folder)
    assert used.train == len(train.y) and used.test == len(test.y) and used.train + used.test == 30
    joined = np.concatenate([train.x, test.x])
    expected = pictures.reshape(30, -1).astype(np.float32) / np.float32(255)
    assert sorted(row.tobytes() for row in joined) == sorted(row.tobytes() for row in expected)
    assert sorted(np.concatenate([train.y, test.y]).tolist()) == sorted(labels.tolist())
    assert feedback_splits(FeedbackConfig(use=False), folder) is None
    assert feedback_splits(FeedbackConfig(), tmp_path / "none") is None  # auto: nothing yet
    snapshot_store(f"sqlite:///{tmp_path / 'no.db'}", tmp_path / "empty")
    assert feedback_splits(FeedbackConfig(), tmp_path / "empty") is None
    with pytest.raises(DataError, match="feedback.use is true"):
        feedback_splits(FeedbackConfig(use=True), tmp_path / "empty")


def test_preprocess_adds_the_feedback_to_train_and_saves_its_test_split(snapshot, tmp_path):
    folder, _, _ = snapshot
    paths = ProjectPaths(tmp_path / "project")
    download(DataConfig(source="mnist_5k"), paths.raw_dir)
    used = feedback_splits(FeedbackConfig(), folder)
    preprocess(PreprocessConfig(), paths.raw_dir, paths.processed_dir, used)
    splits = load_splits(paths.processed_dir, ("train", "val", "test", FEEDBACK_TEST))
    train_digits = round(4000 * (1 - PreprocessConfig().val_fraction))  # of 4,000 non-test digits
    assert len(splits["train"].y) == train_digits + used[2].train and len(splits["test"].y) == 1000
    np.testing.assert_array_equal(splits["train"].x[-used[2].train :], used[0].x)
    np.testing.assert_array_equal(splits[FEEDBACK_TEST].y, used[1].y)
    meta = ProcessedMeta.load(paths.processed_dir)
    assert meta.feedback == used[2] and meta.counts[FEEDBACK_TEST] == used[2].test
