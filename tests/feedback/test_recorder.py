"""The background recorder on real SQLite files: batches, faults (locked, full, read-only)."""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from mnist_mlops.feedback import recorder as recorder_module
from mnist_mlops.feedback.recorder import PredictionRecorder
from mnist_mlops.feedback.store import PredictionStore

MODEL = ("mnist-classifier", "3", "champion")


def answers(count: int, digit: int = 7) -> tuple[np.ndarray, list[dict]]:
    """``count`` rows of distinct pixels and answers of ``digit`` as the server writes them."""
    rows = np.linspace(0, 1, count * 784, dtype=np.float32).reshape(count, 784)
    probabilities = [0.02] * 10
    probabilities[digit] = 0.82
    records = [
        {"digit": digit, **{f"probability_{d}": p for d, p in enumerate(probabilities)}}
        for _ in range(count)
    ]
    return rows, records


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "predictions.db"


@pytest.fixture
def recorder(db: Path):
    created = PredictionRecorder(f"sqlite:///{db}", retention=1000)
    yield created
    created.close()


def rows_in(db: Path) -> int:
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT count(*) FROM predictions").fetchone()[0]


def test_answers_get_ids_and_land_whole_in_the_store(recorder, db) -> None:
    rows, records = answers(3)
    recorder.record(rows, records, "picture", 1.5, MODEL)
    assert recorder.flush(10)
    ids = [record["prediction_id"] for record in records]
    assert len(set(ids)) == 3 and all(len(i) == 32 for i in ids)
    stored = recorder.store().get(ids[1])
    assert stored.source == "picture" and stored.digit == 7 and stored.label is None
    assert (stored.model_name, stored.model_version, stored.model_alias) == MODEL
    assert stored.confidence == pytest.approx(0.82) and stored.latency_ms == 1.5
    np.testing.assert_allclose(stored.image().reshape(-1) / 255, rows[1], atol=0.5 / 255 + 1e-6)
    assert recorder.stats() == {
        "recorded": 3,
        "dropped": dict.fromkeys(recorder_module.DROP_REASONS, 0),
        "queued": 0,
    }


def test_answers_of_another_model_are_not_recorded(recorder) -> None:
    rows, _ = answers(1)
    other = [{"label": "seven"}]
    recorder.record(rows, other, "json", 1.0, MODEL)
    assert "prediction_id" not in other[0] and recorder.stats()["queued"] == 0


def test_a_locked_store_delays_the_records_and_loses_none(recorder, db) -> None:
    rows, records = answers(1)
    recorder.record(rows, records, "json", 1.0, MODEL)
    assert recorder.flush(10)
    lock = sqlite3.connect(db, isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")
    try:
        start = time.perf_counter()
        for _ in range(20):
            rows, records = answers(2)
            recorder.record(rows, records, "json", 1.0, MODEL)
        assert time.perf_counter() - start < 0.5  # queued, not written
        assert not recorder.flush(1.0) and recorder.stats()["queued"] > 0
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    assert recorder.flush(30)
    assert rows_in(db) == 41 and recorder.stats()["dropped"]["locked"] == 0


def test_a_full_store_drops_warns_once_and_counts(recorder, db, caplog) -> None:
    rows, records = answers(1)
    recorder.record(rows, records, "json", 1.0, MODEL)
    assert recorder.flush(10)
    engine = recorder.store().engine
    pages = sqlite3.connect(db).execute("PRAGMA page_count").fetchone()[0]
    sa.event.listen(
        engine,
        "connect",
        lambda connection, _: connection.execute(f"PRAGMA max_page_count={pages}"),
    )
    engine.dispose()  # new connections: the file may not grow any more
    with caplog.at_level(logging.WARNING, logger=recorder_module.__name__):
        for _ in range(5):
            rows, records = answers(8)
            recorder.record(rows, records, "json", 1.0, MODEL)
            assert recorder.flush(10)
    assert recorder.stats()["dropped"]["full"] == 40 and recorder.stats()["recorded"] == 1
    warnings = [r.getMessage() for r in caplog.records if "not recorded" in r.getMessage()]
    assert len(warnings) == 1 and "full" in warnings[0], warnings
    assert rows_in(db) == 1


def test_a_read_only_store_drops_and_counts(db) -> None:
    PredictionStore(f"sqlite:///{db}").close()
    read_only = PredictionRecorder(f"sqlite:///file:{db}?mode=ro&uri=true", retention=1000)
    try:
        rows, records = answers(4)
        read_only.record(rows, records, "json", 1.0, MODEL)
        assert read_only.flush(10)
        assert read_only.stats()["dropped"]["read_only"] == 4
        assert "prediction_id" in records[0]  # the answers still carry their ids
    finally:
        read_only.close()
    assert rows_in(db) == 0


def test_an_unopenable_store_drops_and_counts(tmp_path) -> None:
    missing = PredictionRecorder(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}", 10)
    try:
        rows, records = answers(2)
        missing.record(rows, records, "json", 1.0, MODEL)
        assert missing.flush(10) and missing.stats()["dropped"]["unavailable"] == 2
    finally:
        missing.close()


def test_more_than_the_queue_holds_is_dropped(recorder, db, monkeypatch) -> None:
    monkeypatch.setattr(recorder_module, "MAX_QUEUED", 10)
    lock = sqlite3.connect(db, isolation_level=None)
    recorder.store()
    lock.execute("BEGIN EXCLUSIVE")
    try:
        for _ in range(8):
            rows, records = answers(2)
            recorder.record(rows, records, "json", 1.0, MODEL)
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    assert recorder.flush(30)
    stats = recorder.stats()  # 5 requests fit the queue (10 records), 3 do not
    assert stats["dropped"]["queue_full"] == 6 and stats["recorded"] == 10 == rows_in(db)


def test_close_writes_the_queue_first(db) -> None:
    closing = PredictionRecorder(f"sqlite:///{db}", retention=1000)
    for _ in range(50):
        rows, records = answers(3)
        closing.record(rows, records, "json", 1.0, MODEL)
    closing.close()
    assert rows_in(db) == 150


def test_retention_prunes_the_oldest_unlabelled(db) -> None:
    kept = PredictionRecorder(f"sqlite:///{db}", retention=20)
    try:
        first_rows, first = answers(1)
        kept.record(first_rows, first, "json", 1.0, MODEL)
        assert kept.flush(10)
        kept.add_feedback([(first[0]["prediction_id"], 7)])
        for _ in range(40):
            rows, records = answers(1)
            kept.record(rows, records, "json", 1.0, MODEL)
            assert kept.flush(10)
        assert kept.prune_every == 2
        assert 20 < rows_in(db) <= 1 + 20 + kept.prune_every
        assert kept.store().get(first[0]["prediction_id"]).label == 7
    finally:
        kept.close()


def test_feedback_finds_a_prediction_still_queued(recorder, db) -> None:
    lock = sqlite3.connect(db, isolation_level=None)
    recorder.store()
    lock.execute("BEGIN EXCLUSIVE")
    rows, records = answers(1)
    recorder.record(rows, records, "json", 1.0, MODEL)
    time.sleep(0.3)
    lock.execute("ROLLBACK")
    lock.close()
    recorder.add_feedback([(records[0]["prediction_id"], 4)])  # waits for the queue
    assert recorder.store().get(records[0]["prediction_id"]).label == 4
