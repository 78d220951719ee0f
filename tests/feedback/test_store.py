"""The prediction store on a real SQLite file (and a real PostgreSQL server)."""

from __future__ import annotations

import multiprocessing
import sqlite3
import time
from pathlib import Path

import numpy as np
import pytest

from mnist_mlops.config.params import PREDICTIONS_STORE_ENV, FeedbackConfig
from mnist_mlops.errors import FeedbackError
from mnist_mlops.feedback.store import PredictionRecord, PredictionStore, pixels_of
from tests.helpers.feedback import prediction_record
from tests.helpers.postgres import postgres_server


def record(created_at: float = 0.0, digit: int = 3, seed: int = 0) -> PredictionRecord:
    """A record of a random 28x28 input whose answer is ``digit``."""
    pixels = np.random.default_rng(seed).random(784)
    return prediction_record(pixels, digit, created_at or time.time(), 0.91, "2", "json")


@pytest.fixture
def store(tmp_path: Path) -> PredictionStore:
    created = PredictionStore(f"sqlite:///{tmp_path / 'predictions.db'}")
    yield created
    created.close()


def test_a_record_comes_back_whole(store: PredictionStore) -> None:
    written = record(seed=1)
    store.insert([written])
    read = store.get(written.prediction_id)
    assert read == written
    assert read.image().shape == (28, 28) and read.image().dtype == np.uint8
    assert store.get("unknown") is None


def test_pixels_are_the_input_times_255() -> None:
    row = np.linspace(0, 1, 784, dtype=np.float32)
    pixels = np.frombuffer(pixels_of(row), np.uint8)
    assert pixels[0] == 0 and pixels[-1] == 255
    np.testing.assert_allclose(pixels / 255, row, atol=0.5 / 255 + 1e-6)
    with pytest.raises(ValueError, match="784 pixels"):
        pixels_of(np.zeros(10))


def test_feedback_is_stored_once(store: PredictionStore) -> None:
    first, second = record(seed=1), record(seed=2)
    store.insert([first, second])
    store.add_feedback([(first.prediction_id, 7)])
    labelled = store.labelled()
    assert [r.prediction_id for r in labelled] == [first.prediction_id]
    assert labelled[0].label == 7 and labelled[0].labelled_at is not None
    with pytest.raises(FeedbackError, match="labelled 7 already") as again:
        store.add_feedback([(first.prediction_id, 1)])
    assert again.value.status == 409
    assert store.get(first.prediction_id).label == 7


@pytest.mark.parametrize(
    ("label", "status", "message"),
    [(10, 422, "allowed labels are 0-9"), (-1, 422, "0-9"), (True, 422, "0-9"), ("3", 422, "0-9")],
)
def test_a_bad_label_is_refused(store: PredictionStore, label, status: int, message: str) -> None:
    written = record()
    store.insert([written])
    with pytest.raises(FeedbackError, match=message) as refused:
        store.add_feedback([(written.prediction_id, label)])
    assert refused.value.status == status
    assert store.labelled() == []


def test_a_batch_with_one_bad_item_stores_nothing(store: PredictionStore) -> None:
    first, second = record(seed=1), record(seed=2)
    store.insert([first, second])
    with pytest.raises(FeedbackError, match="no prediction 'missing'") as unknown:
        store.add_feedback([(first.prediction_id, 1), ("missing", 2)])
    assert unknown.value.status == 404
    with pytest.raises(FeedbackError, match="given twice") as twice:
        store.add_feedback([(second.prediction_id, 1), (second.prediction_id, 2)])
    assert twice.value.status == 409
    assert store.labelled() == []


def test_recent_and_windows(store: PredictionStore) -> None:
    records = [record(created_at=1000.0 + i, seed=i) for i in range(10)]
    store.insert(records[5:])
    store.insert(records[:5])
    assert [r.created_at for r in store.recent()] == [r.created_at for r in records]
    assert [r.created_at for r in store.recent(last=3)] == [1007.0, 1008.0, 1009.0]
    window = store.recent(since=1002.0, until=1005.0)
    assert [r.created_at for r in window] == [1002.0, 1003.0, 1004.0]
    assert store.count() == 10


def test_prune_keeps_the_newest_and_every_label(store: PredictionStore) -> None:
    records = [record(created_at=1000.0 + i, seed=i) for i in range(10)]
    store.insert(records)
    store.add_feedback([(records[0].prediction_id, 4)])
    assert store.prune(keep=3) == 6
    kept = {r.created_at for r in store.recent()}
    assert kept == {1000.0, 1007.0, 1008.0, 1009.0}
    assert store.prune(keep=3) == 0


def _insert_many(url: str, seed: int, count: int) -> None:
    store = PredictionStore(url)
    for i in range(count):
        store.insert([record(seed=seed * 1000 + i)])
    store.close()


def test_processes_write_at_once_and_a_reader_never_waits(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'predictions.db'}"
    PredictionStore(url).close()
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_insert_many, args=(url, seed, 40)) for seed in (1, 2)]
    for writer in writers:
        writer.start()
    reader = PredictionStore(url)
    while any(writer.is_alive() for writer in writers):
        reader.recent(last=5)  # WAL: reads go on while the writers commit
    assert [writer.exitcode for writer in writers] == [0, 0]
    assert reader.count() == 80
    check = sqlite3.connect(tmp_path / "predictions.db")
    assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert check.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_the_store_url_comes_from_the_environment_the_section_or_the_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PREDICTIONS_STORE_ENV, raising=False)
    assert FeedbackConfig().resolved_store(tmp_path) == f"sqlite:///{tmp_path / 'predictions.db'}"
    configured = FeedbackConfig(store="postgresql+psycopg2://db/feedback")
    assert configured.resolved_store(tmp_path) == "postgresql+psycopg2://db/feedback"
    monkeypatch.setenv(PREDICTIONS_STORE_ENV, "sqlite:////elsewhere.db")
    assert configured.resolved_store(tmp_path) == "sqlite:////elsewhere.db"


@pytest.mark.postgres
@pytest.mark.slow
def test_postgresql_keeps_the_same_contract() -> None:
    with postgres_server() as url:
        store = PredictionStore(url)
        written = [record(created_at=1000.0 + i, seed=i) for i in range(4)]
        store.insert(written)
        assert store.get(written[0].prediction_id) == written[0]
        store.add_feedback([(written[0].prediction_id, 5)])
        with pytest.raises(FeedbackError) as twice:
            store.add_feedback([(written[0].prediction_id, 6)])
        assert twice.value.status == 409
        assert store.prune(keep=1) == 2
        assert [r.created_at for r in store.recent()] == [1000.0, 1003.0]
        store.close()
