"""The feedback snapshot of a real SQLite store: deterministic bytes, checked pictures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mnist_mlops.errors import DataError, MissingArtifactError
from mnist_mlops.feedback.snapshot import load_snapshot, snapshot_store
from mnist_mlops.feedback.store import PredictionStore
from tests.feedback.test_store import record
from tests.helpers.feedback import labelled_predictions, uci_pictures


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'predictions.db'}"


def test_the_same_labels_give_the_same_bytes_and_a_new_label_a_new_hash(store_url, tmp_path):
    store = PredictionStore(store_url)
    pictures, labels = uci_pictures(12)
    ids = labelled_predictions(store, pictures, labels)
    store.insert([record(seed=5)])  # unlabelled: not in the snapshot
    first = snapshot_store(store_url, tmp_path / "a")
    second = snapshot_store(store_url, tmp_path / "b")
    assert folder_bytes(tmp_path / "a") == folder_bytes(tmp_path / "b")
    assert [entry.prediction_id for entry in first.entries] == ids
    assert second == first and len(folder_bytes(tmp_path / "a")) == len(ids) + 1

    manifest, images = load_snapshot(tmp_path / "a")
    np.testing.assert_array_equal(images, pictures)  # the inputs as the model saw them
    assert [entry.label for entry in manifest.entries] == labels.tolist()
    assert [entry.predicted for entry in manifest.entries] == ((labels + 1) % 10).tolist()

    unlabelled = store.recent(last=1)[0]
    store.add_feedback([(unlabelled.prediction_id, 3)])
    store.close()
    third = snapshot_store(store_url, tmp_path / "a")  # replaced whole
    assert len(third.entries) == len(ids) + 1 and third.sha256 != first.sha256
    assert third.entries[:-1] == first.entries


def test_no_store_gives_an_empty_snapshot_and_creates_no_database(tmp_path):
    database = tmp_path / "nothing-served.db"
    manifest = snapshot_store(f"sqlite:///{database}", tmp_path / "feedback")
    assert manifest.entries == [] and not database.exists()
    assert load_snapshot(tmp_path / "feedback")[1].shape == (0, 28, 28)
    empty_store = PredictionStore(f"sqlite:///{tmp_path / 'empty.db'}")
    empty_store.close()
    again = snapshot_store(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path / "again")
    assert again.sha256 == manifest.sha256


def test_a_changed_or_missing_picture_is_refused(store_url, tmp_path):
    store = PredictionStore(store_url)
    pictures, labels = uci_pictures(3)
    ids = labelled_predictions(store, pictures, labels)
    store.close()
    folder = tmp_path / "feedback"
    snapshot_store(store_url, folder)
    picture = folder / f"{ids[1]}.png"
    picture.write_bytes(picture.read_bytes() + b"\0")
    with pytest.raises(DataError, match=ids[1]):
        load_snapshot(folder)
    picture.unlink()
    with pytest.raises(DataError, match="missing or changed"):
        load_snapshot(folder)
    with pytest.raises(MissingArtifactError, match="feedback stage"):
        load_snapshot(tmp_path / "never-written")
