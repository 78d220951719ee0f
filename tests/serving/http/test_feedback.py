"""Recording and ``/feedback`` through a real ``mnist-mlops serve`` on loopback, real SQLite.

A SIGKILLed server loses at most the predictions answered in the recorder's last 20 ms
(``FLUSH_INTERVAL_S``) and those of the write in progress: the kill test allows what its
clients send in :data:`LOSS_WINDOW_S`, and prints what was lost.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from pipelines.prefect_server import free_port

from mnist_mlops.config.params import PREDICTIONS_STORE_ENV
from tests.helpers.digits import picture_bytes
from tests.helpers.recorded import call, stored_rows, written
from tests.helpers.servers import (
    NAME,
    guarded_command,
    register_champion,
    running_server,
    running_server_process,
)

pytestmark = pytest.mark.slow
LOSS_WINDOW_S = 0.25  # 20 ms of queue, and a write in progress on a loaded 2-core machine
SENDING_S = 4


@pytest.fixture
def champion(tiny_splits):
    return register_champion(tiny_splits["train"]), tiny_splits["test"].x


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "predictions.db"  # where conftest's isolated_state points the server


def test_predictions_carry_ids_land_in_the_store_and_take_labels(champion, db, tmp_path):
    version, x = champion
    port = free_port()
    with running_server(guarded_command(port), port, tmp_path / "server.log") as url:
        status, answer = call(f"{url}/invocations", {"inputs": x[:2].tolist()})
        assert status == 200
        json_ids = [record["prediction_id"] for record in answer["predictions"]]
        digit = np.pad(np.full((16, 4), 255, np.uint8), 6)
        png = picture_bytes(digit, scale=3)
        status, answer = call(f"{url}/invocations", png, "image/png")
        assert status == 200
        picture = answer["predictions"][0]
        status, answer = call(f"{url}/predict/image", png, "image/png", page=True)
        page = answer["predictions"][0]
        assert status == 200 and page["image"].startswith("data:image/png")

        ids = [*json_ids, picture["prediction_id"], page["prediction_id"]]
        assert len(set(ids)) == 4
        # Feedback on a prediction just answered (maybe still queued): single and batch forms.
        assert call(f"{url}/feedback", {"prediction_id": ids[0], "label": 3}) == (
            200,
            {"stored": 1, "feedback": [{"prediction_id": ids[0], "label": 3}]},
        )
        batch = {
            "feedback": [
                {"prediction_id": ids[2], "label": 1},
                {"prediction_id": ids[3], "label": 1},
            ]
        }
        assert call(f"{url}/feedback", batch)[1]["stored"] == 2

        bad = {
            "unknown id": ({"prediction_id": "f" * 32, "label": 3}, 404, "no prediction"),
            "label 10": ({"prediction_id": ids[1], "label": 10}, 422, "0-9"),
            "label -1": ({"prediction_id": ids[1], "label": -1}, 422, "0-9"),
            "labelled already": ({"prediction_id": ids[0], "label": 5}, 409, "labelled 3 already"),
            "twice in a batch": (
                {"feedback": [{"prediction_id": ids[1], "label": 2}] * 2},
                409,
                "given twice",
            ),
            "label a string": ({"prediction_id": ids[1], "label": "3"}, 400, "label"),
            "label a float": ({"prediction_id": ids[1], "label": 3.5}, 400, "label"),
            "no label": ({"prediction_id": ids[1]}, 400, "label"),
            "unknown field": ({"prediction_id": ids[1], "label": 3, "x": 1}, 400, "x: Extra"),
            "empty batch": ({"feedback": []}, 400, "feedback"),
            "not JSON": (b"{label: 3", 400, "not valid JSON"),
            "a list": ([{"prediction_id": ids[1], "label": 3}], 400, "prediction_id"),
        }
        for case, (body, expected, words) in bad.items():
            status, answer = call(f"{url}/feedback", body)
            assert (status, words in answer["message"]) == (expected, True), (case, answer)
            if expected == 400:
                assert '"label": <0-9>' in answer["message"], case  # what is allowed
        status, answer = call(f"{url}/feedback", b"label=3", "text/plain")
        assert status == 415 and "application/json" in answer["message"]

        status, counts = call(f"{url}/feedback")
        assert status == 200 and counts["recording"] is True
        assert counts["recorded"] == 4 and sum(counts["dropped"].values()) == 0

    rows = stored_rows(db)
    assert set(rows) == set(ids)  # nothing else, nothing lost
    labels = {prediction_id: rows[prediction_id]["label"] for prediction_id in ids}
    assert labels == {ids[0]: 3, ids[1]: None, ids[2]: 1, ids[3]: 1}
    assert [rows[i]["source"] for i in ids] == ["json", "json", "picture", "page"]
    for prediction_id in ids:
        row = rows[prediction_id]
        assert (row["model_name"], row["model_version"], row["model_alias"]) == (
            NAME,
            version,
            "champion",
        )
        probabilities = json.loads(row["probabilities"])
        assert len(probabilities) == 10 and row["digit"] == int(np.argmax(probabilities))
        assert row["confidence"] == pytest.approx(max(probabilities), abs=1e-6)
        assert len(row["pixels"]) == 784 and row["latency_ms"] > 0
    first = np.frombuffer(rows[ids[0]]["pixels"], np.uint8)
    np.testing.assert_allclose(first / 255, x[0], atol=0.5 / 255 + 1e-6)
    assert rows[ids[3]]["pixels"] == rows[ids[2]]["pixels"]  # the same picture, the same input


def test_recording_off_answers_without_ids_and_refuses_feedback(champion, db, tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("feedback:\n  record: false\n")
    command = guarded_command(free_port())
    command[command.index("no-such-params.yaml")] = str(params)
    port = int(command[command.index("-p") + 1])
    with running_server(command, port, tmp_path / "server.log") as url:
        status, answer = call(f"{url}/invocations", {"inputs": champion[1][:1].tolist()})
        assert status == 200 and "prediction_id" not in answer["predictions"][0]
        status, answer = call(f"{url}/feedback", {"prediction_id": "a" * 32, "label": 3})
        assert status == 503 and "feedback.record: false" in answer["message"]
        assert call(f"{url}/feedback") == (200, {"recording": False})
    assert not db.exists()


def test_a_locked_store_slows_no_prediction_and_sigterm_writes_the_queue(champion, db, tmp_path):
    port = free_port()
    x = champion[1]
    with running_server_process(guarded_command(port), port, tmp_path / "server.log") as (
        url,
        process,
    ):
        call(f"{url}/invocations", {"inputs": x[:1].tolist()})  # the store exists
        assert written(url)["recorded"] == 1
        lock = sqlite3.connect(db, isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")  # another connection holds the store
        ids, slowest = [], 0.0
        for row in x[:30]:
            start = time.perf_counter()
            status, answer = call(f"{url}/invocations", {"inputs": [row.tolist()]})
            slowest = max(slowest, time.perf_counter() - start)
            assert status == 200
            ids.append(answer["predictions"][0]["prediction_id"])
        assert slowest < 1.0  # none waits for the store (its busy timeout is 5 s)
        counts = call(f"{url}/feedback")[1]
        assert counts["recorded"] == 1 and counts["queued"] == 30
        os.killpg(process.pid, signal.SIGTERM)  # shutdown with the queue still locked out
        time.sleep(1.5)
        assert process.poll() is None  # still writing its queue
        lock.execute("ROLLBACK")
        lock.close()
        assert process.wait(timeout=30) == -signal.SIGTERM  # uvicorn re-raises it when done
    rows = stored_rows(db)
    assert set(ids) <= set(rows) and len(rows) == 31


def test_a_read_only_store_answers_warns_and_counts(champion, db, tmp_path, monkeypatch):
    from mnist_mlops.feedback.store import PredictionStore

    PredictionStore(f"sqlite:///{db}").close()
    monkeypatch.setenv(PREDICTIONS_STORE_ENV, f"sqlite:///file:{db}?mode=ro&uri=true")
    port = free_port()
    log = tmp_path / "server.log"
    with running_server(guarded_command(port), port, log) as url:
        for _ in range(3):
            status, answer = call(f"{url}/invocations", {"inputs": champion[1][:2].tolist()})
            assert status == 200 and "prediction_id" in answer["predictions"][0]
        counts = written(url)
        assert counts["dropped"]["read_only"] == 6 and counts["recorded"] == 0
        with urllib.request.urlopen(f"{url}/metrics", timeout=30) as scraped:
            metrics = scraped.read().decode()
        assert 'mnist_mlops_records_dropped_total{reason="read_only"} 6.0' in metrics
        assert "mnist_mlops_records_written_total 0.0" in metrics
        prediction_id = answer["predictions"][0]["prediction_id"]
        status, answer = call(f"{url}/feedback", {"prediction_id": prediction_id, "label": 1})
        assert status == 503 and "cannot be written" in answer["message"]
    text = log.read_text()
    assert text.count("not recorded (read_only") == 1, text[-3000:]  # one warning, not six
    assert stored_rows(db) == {}


def test_a_full_store_answers_warns_and_counts(champion, db, tmp_path):
    """The store's files may not grow past 256 KiB (``RLIMIT_FSIZE`` of the server process).

    (A real full disk, ENOSPC, is SQLite's ``SQLITE_FULL``: tests/feedback/test_recorder.py
    fills the store with ``PRAGMA max_page_count``.)
    """
    import resource

    from mnist_mlops.feedback.store import PredictionStore

    PredictionStore(f"sqlite:///{db}").close()
    limit = 256 * 1024
    port = free_port()
    log = tmp_path / "server.log"
    with running_server(["prlimit", f"--fsize={limit}", *guarded_command(port)], port, log) as url:
        assert resource.getrlimit(resource.RLIMIT_FSIZE)[0] != limit  # only the server's
        rows = np.repeat(champion[1][:1], 50, axis=0)
        for _ in range(12):  # 600 records of about 1 KB: more than 256 KiB
            status, _ = call(f"{url}/invocations", {"inputs": rows.tolist()})
            assert status == 200
        counts = written(url)
        lost = sum(counts["dropped"].values())
        # SQLite reports a write beyond the file size limit (EFBIG) as a disk I/O error.
        assert counts["recorded"] + lost == 600 and counts["recorded"] > 0
        assert counts["dropped"]["io_error"] == lost > 0
    assert log.read_text().count("not recorded (io_error") == 1
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_sigkilled_server_leaves_whole_rows_and_loses_at_most_its_queue(champion, db, tmp_path):
    port = free_port()
    x = champion[1]
    acknowledged: list[str] = []
    stop = threading.Event()

    def client(offset: int) -> None:
        while not stop.is_set():
            try:
                status, answer = call(
                    url + "/invocations", {"inputs": x[offset : offset + 2].tolist()}
                )
            except OSError:
                return
            if status == 200:
                acknowledged.extend(r["prediction_id"] for r in answer["predictions"])

    with running_server_process(guarded_command(port), port, tmp_path / "server.log") as (
        url,
        process,
    ):
        clients = [threading.Thread(target=client, args=(i,)) for i in range(4)]
        for thread in clients:
            thread.start()
        time.sleep(SENDING_S)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        stop.set()
        for thread in clients:
            thread.join(60)
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = stored_rows(db)
    assert len(acknowledged) > 50, len(acknowledged)
    for row in rows.values():  # every row whole
        assert None not in [
            value for key, value in row.items() if key not in ("label", "labelled_at")
        ]
        assert len(row["pixels"]) == 784 and len(json.loads(row["probabilities"])) == 10
    lost = set(acknowledged) - set(rows)
    rate = len(acknowledged) / SENDING_S
    print(f"SIGKILL: {len(acknowledged)} acknowledged, {len(rows)} stored, {len(lost)} lost")
    assert len(lost) <= rate * LOSS_WINDOW_S + 8  # + the 4 clients' requests in flight
