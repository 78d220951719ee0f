"""Served predictions written to the store by a background thread, never in the request's way.

:meth:`PredictionRecorder.record` gives each answer a ``prediction_id`` and queues it (no I/O);
one writer thread inserts what is queued in one transaction (a record waits at most
:data:`FLUSH_INTERVAL_S` for others to share it: 5x less CPU than a write each), retrying while
the store is locked or busy (for :data:`LOCKED_RETRY_S`, then dropped). A full, read-only or
unreachable store drops the batch: a WARNING (once per reason per :data:`WARN_EVERY_S`) and a
count (:meth:`~PredictionRecorder.stats`). More than :data:`MAX_QUEUED` records waiting are
dropped as ``queue_full``. Every ``prune_every`` records, the oldest unlabelled ones beyond
``retention`` are deleted.

Loss bound: a SIGKILL loses the records answered in the last :data:`FLUSH_INTERVAL_S` (20 ms)
and those of the write in progress (tests/serving/http/test_feedback.py measures it); while the
store is locked, up to the queue's bound.
:meth:`~PredictionRecorder.close` (the server's shutdown) writes the queue first.

The standard library's ``queue``/``threading`` do it: no task-queue package is needed for one
writer per process.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sqlalchemy as sa

from mnist_mlops.feedback.batches import QueuedBatch, drop_reason, shown_url
from mnist_mlops.feedback.store import PredictionRecord, PredictionStore, pixel_rows

logger = logging.getLogger(__name__)

MAX_QUEUED = 20_000  # records waiting (about 1 KB each)
BATCH_RECORDS = 500  # records per transaction at most
FLUSH_INTERVAL_S = 0.02  # a record waits this long at most for others to share its write
LOCKED_RETRY_S = 30.0
RETRY_PAUSE_S = 0.1
WARN_EVERY_S = 60.0
CLOSE_TIMEOUT_S = 10.0
UNKNOWN_ID_WAIT_S = 1.0  # another worker may still hold a prediction in its queue
DROP_REASONS = ("locked", "full", "read_only", "io_error", "unavailable", "queue_full")
PROBABILITY_KEYS = tuple(f"probability_{digit}" for digit in range(10))


class PredictionRecorder:
    """Records served predictions into the store at ``url`` from a thread of its own.

    The store is opened on first use: a server starts even when it cannot be written.
    """

    def __init__(
        self, url: str, retention: int, on_count: Callable[[str, int], None] | None = None
    ) -> None:
        """Record into ``url``, keeping at most ``retention`` unlabelled predictions.

        ``on_count(outcome, count)`` is told of every write: ``recorded`` or a drop reason.
        """
        self.url, self.retention, self.on_count = url, retention, on_count
        self.prune_every = min(1000, max(1, retention // 10))
        self.recorded = 0
        self.dropped: Counter[str] = Counter()
        self._queue: queue.Queue[QueuedBatch | None] = queue.Queue()
        self._queued = 0
        self._idle = threading.Condition()
        self._store: PredictionStore | None = None
        self._store_lock = threading.Lock()
        self._warned: dict[str, float] = {}
        self._since_prune = 0
        self._closing_deadline: float | None = None
        self._writer = threading.Thread(target=self._write_loop, name="recorder", daemon=True)
        self._writer.start()

    def record(
        self,
        rows: np.ndarray,
        answers: Sequence[dict[str, Any]],
        source: str,
        latency_ms: float,
        model: tuple[str | None, str | None, str | None],
    ) -> None:
        """Queue the answers to ``rows`` (values in [0, 1]); add its ``prediction_id`` to each.

        Answers without ``digit`` and the ten probabilities (another model) are not recorded.
        """
        if not answers or any(PROBABILITY_KEYS[-1] not in answer for answer in answers):
            return
        ids = [uuid.uuid4().hex for _ in answers]
        with self._idle:
            if self._queued + len(ids) > MAX_QUEUED:
                self._drop("queue_full", len(ids), f"more than {MAX_QUEUED} records wait")
                return
            self._queued += len(ids)
        pixels = pixel_rows(rows)
        keys = PROBABILITY_KEYS
        scores = [(int(a["digit"]), tuple(float(a[key]) for key in keys)) for a in answers]
        self._queue.put(QueuedBatch(ids, time.time(), model, source, latency_ms, pixels, scores))
        for answer, prediction_id in zip(answers, ids, strict=True):
            answer["prediction_id"] = prediction_id

    def stats(self) -> dict[str, Any]:
        """``recorded``, ``dropped`` by reason and ``queued`` records of this process."""
        dropped = {reason: self.dropped[reason] for reason in DROP_REASONS}
        return {"recorded": self.recorded, "dropped": dropped, "queued": self._queued}

    def flush(self, timeout_s: float) -> bool:
        """Wait until every queued record is written or dropped; whether it was in time."""
        with self._idle:
            return self._idle.wait_for(lambda: self._queued == 0, timeout_s)

    def close(self, timeout_s: float = CLOSE_TIMEOUT_S) -> None:
        """Write what is queued (within ``timeout_s``), stop the writer, release the store."""
        self._closing_deadline = time.monotonic() + timeout_s
        self._queue.put(None)
        self._writer.join(timeout_s)
        if self._store is not None:
            self._store.close()

    def store(self) -> PredictionStore:
        """The store, opened on first use.

        Raises:
            sqlalchemy.exc.SQLAlchemyError: It cannot be opened.
        """
        with self._store_lock:
            if self._store is None:
                self._store = PredictionStore(self.url)
            return self._store

    def add_feedback(self, items: list[tuple[str, int]]) -> None:
        """Label recorded predictions (:meth:`PredictionStore.add_feedback`), queue written first.

        An unknown id is looked for again for :data:`UNKNOWN_ID_WAIT_S` (another worker's
        queue may hold it).

        Raises:
            FeedbackError: 404, 409, 422 as the store raises them.
            sqlalchemy.exc.SQLAlchemyError: The store cannot be written.
        """
        from mnist_mlops.errors import FeedbackError

        self.flush(CLOSE_TIMEOUT_S)
        deadline = time.monotonic() + UNKNOWN_ID_WAIT_S
        while True:
            try:
                self.store().add_feedback(items)
                return
            except FeedbackError as error:
                if error.status != 404 or time.monotonic() > deadline:
                    raise
            time.sleep(RETRY_PAUSE_S)

    def _write_loop(self) -> None:
        stopping = False
        while not stopping:
            batches = [self._queue.get()]
            if batches[0] is not None:
                # Sleep, not get(timeout): a put would wake the writer (and take the GIL)
                # once per request.
                time.sleep(FLUSH_INTERVAL_S)
            count = len(batches[0].ids) if batches[0] else 0
            while batches[-1] is not None and count < BATCH_RECORDS:
                try:
                    batches.append(self._queue.get_nowait())
                except queue.Empty:
                    break
                count += len(batches[-1].ids) if batches[-1] else 0
            stopping = batches[-1] is None
            records = [r for batch in batches if batch is not None for r in batch.records()]
            try:
                self._write(records)
            except Exception as error:  # the writer must outlive any one bad batch
                logger.exception("recording %d prediction(s) failed", len(records))
                self._drop("unavailable", len(records), repr(error))
            with self._idle:
                self._queued -= len(records)
                self._idle.notify_all()

    def _write(self, records: list[PredictionRecord]) -> None:
        """Insert ``records`` in one transaction, retrying while the store is locked."""
        if not records:
            return
        deadline = time.monotonic() + LOCKED_RETRY_S
        while True:
            try:
                self.store().insert(records)
                break
            except sa.exc.SQLAlchemyError as error:
                reason = drop_reason(error)
                closing = self._closing_deadline
                now = time.monotonic()
                if reason != "locked" or now > deadline or (closing is not None and now > closing):
                    self._drop(reason, len(records), str(error).splitlines()[0])
                    return
                time.sleep(RETRY_PAUSE_S)
        self.recorded += len(records)
        if self.on_count is not None:
            self.on_count("recorded", len(records))
        self._since_prune += len(records)
        if self._since_prune >= self.prune_every:
            self._since_prune = 0
            try:
                self.store().prune(self.retention)
            except sa.exc.SQLAlchemyError as error:
                logger.warning("cannot prune the prediction store %s: %s", self.url, error)

    def _drop(self, reason: str, count: int, why: str) -> None:
        """Count ``count`` dropped records; warn once per reason per :data:`WARN_EVERY_S`."""
        self.dropped[reason] += count
        if self.on_count is not None:
            self.on_count(reason, count)
        now = time.monotonic()
        if now - self._warned.get(reason, -WARN_EVERY_S) >= WARN_EVERY_S:
            self._warned[reason] = now
            logger.warning(
                "prediction store %s: %d served prediction(s) not recorded (%s: %s); "
                "%d dropped for this reason so far; the predictions were answered",
                shown_url(self.url),
                count,
                reason,
                why,
                self.dropped[reason],
            )
