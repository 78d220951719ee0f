import numpy as np
import pytest

from mnist_mlops.artifacts.processed import load_splits
from mnist_mlops.config.params import PreprocessConfig
from mnist_mlops.data.preprocess import make_splits, stratified_split
from mnist_mlops.data.raw import RawDataset, validate_split
from mnist_mlops.errors import DataError, MissingArtifactError
from tests.helpers.digits import make_digits


def test_splits_are_stratified_scaled_and_seeded():
    x, y = make_digits(per_class=20)
    config = PreprocessConfig(seed=7, val_fraction=0.25, test_fraction=0.2)
    splits = make_splits(RawDataset(x, y), config)
    assert {k: len(s.y) for k, s in splits.items()} == {"train": 120, "val": 40, "test": 40}
    for split in splits.values():
        assert split.x.dtype == np.float32 and split.x.shape[1] == 784
        assert split.x.min() >= 0.0 and split.x.max() <= 1.0
        assert np.bincount(split.y, minlength=10).min() == np.bincount(split.y).max()
    again = make_splits(RawDataset(x, y), config)
    assert all(np.array_equal(splits[k].x, again[k].x) for k in splits)
    other = make_splits(RawDataset(x, y), PreprocessConfig(seed=8, val_fraction=0.25))
    assert not np.array_equal(splits["val"].y, other["val"].y) or not np.array_equal(
        splits["val"].x, other["val"].x
    )


def test_official_test_split_is_kept():
    x, y = make_digits(per_class=10)
    tx, ty = make_digits(per_class=4, seed=5)
    splits = make_splits(RawDataset(x, y, tx, ty), PreprocessConfig(val_fraction=0.1))
    assert len(splits["test"].y) == 40
    assert np.array_equal(splits["test"].x, tx.reshape(40, 784).astype(np.float32) / 255)
    assert len(splits["train"].y) + len(splits["val"].y) == 100


def test_no_example_is_lost_or_duplicated():
    labels = np.repeat(np.arange(10), 9)
    kept, held = stratified_split(labels, 0.3, seed=1)
    assert sorted(np.concatenate([kept, held]).tolist()) == list(range(90))


def test_too_small_class_is_a_clear_error():
    labels = np.array([0, 0, 0, 1])
    with pytest.raises(DataError, match="class 1 has 1 examples"):
        stratified_split(labels, 0.5, seed=0)


@pytest.mark.parametrize(
    ("images", "labels", "message"),
    [
        (np.zeros((10, 28, 27), np.uint8), np.arange(10), r"shape \(N, 28, 28\)"),
        (np.zeros((10, 28, 28), np.float32), np.arange(10), "must be uint8"),
        (np.zeros((10, 28, 28), np.uint8), np.arange(9), "10 images but 9 labels"),
        (np.zeros((10, 28, 28), np.uint8), np.arange(1, 11), "labels must lie in 0-9"),
        (np.zeros((10, 28, 28), np.uint8), np.array([0] * 5 + [1] * 5), r"lacks classes \[2,"),
    ],
)
def test_invalid_raw_data_is_rejected(images, labels, message):
    with pytest.raises(DataError, match=message):
        validate_split("train", images, labels)


def test_missing_processed_data_is_a_clear_error(tmp_path):
    with pytest.raises(MissingArtifactError, match="run the preprocess stage first"):
        load_splits(tmp_path)
