"""The prediction store: every served prediction, and the label a user gave it.

One table, ``predictions``, through SQLAlchemy Core: SQLite by default (``predictions.db``
beside the other stores, WAL journal, so readers never block the server's writes), PostgreSQL
(or any SQLAlchemy URL) when configured. A row is written whole in one transaction or not at
all; a label is set once (:meth:`PredictionStore.add_feedback`).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sqlalchemy as sa

from mnist_mlops.config.constants import IMAGE_SIDE, MAX_PIXEL, NUM_CLASSES
from mnist_mlops.errors import FeedbackError

logger = logging.getLogger(__name__)

SOURCES = ("json", "picture", "page")
SQLITE_BUSY_TIMEOUT_MS = 5000

metadata = sa.MetaData()
predictions_table = sa.Table(
    "predictions",
    metadata,
    sa.Column("prediction_id", sa.String(32), primary_key=True),
    sa.Column("created_at", sa.Float, nullable=False, index=True),
    sa.Column("model_name", sa.String(256)),
    sa.Column("model_version", sa.String(64)),
    sa.Column("model_alias", sa.String(256)),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("digit", sa.Integer, nullable=False),
    sa.Column("confidence", sa.Float, nullable=False),
    sa.Column("probabilities", sa.Text, nullable=False),  # JSON list of NUM_CLASSES floats
    sa.Column("pixels", sa.LargeBinary, nullable=False),  # IMAGE_SIDE**2 uint8, row-major
    sa.Column("latency_ms", sa.Float, nullable=False),
    sa.Column("label", sa.Integer, index=True),
    sa.Column("labelled_at", sa.Float),
)


@dataclass(frozen=True)
class PredictionRecord:
    """One served prediction: the input as the model saw it (x255, uint8) and its answer.

    ``label``/``labelled_at`` are ``None`` until a user says which digit it was.
    """

    prediction_id: str
    created_at: float
    model_name: str | None
    model_version: str | None
    model_alias: str | None
    source: str
    digit: int
    confidence: float
    probabilities: tuple[float, ...]
    pixels: bytes
    latency_ms: float
    label: int | None = None
    labelled_at: float | None = None

    def image(self) -> np.ndarray:
        """The input as a ``(28, 28)`` uint8 array (0 background, 255 ink)."""
        return np.frombuffer(self.pixels, np.uint8).reshape(IMAGE_SIDE, IMAGE_SIDE)

    def row(self) -> dict[str, Any]:
        """The record as a row of :data:`predictions_table`."""
        values = dict(self.__dict__)
        values["probabilities"] = json.dumps([round(p, 6) for p in self.probabilities])
        return values

    @classmethod
    def from_row(cls, row: Any) -> PredictionRecord:
        """The record of a row read from :data:`predictions_table`."""
        values = dict(row._mapping)
        values["probabilities"] = tuple(json.loads(values["probabilities"]))
        return cls(**values)


def pixel_rows(rows: np.ndarray) -> np.ndarray:
    """``rows`` of values in [0, 1] (as the model reads them) as uint8 rows (x255, rounded)."""
    scaled = np.rint(np.asarray(rows, np.float32).reshape(len(rows), -1) * MAX_PIXEL)
    return np.clip(scaled, 0, MAX_PIXEL).astype(np.uint8)


def pixels_of(row: np.ndarray) -> bytes:
    """``row``'s 784 values in [0, 1] (as the model reads them) as 784 uint8 bytes (x255)."""
    pixels = pixel_rows(np.asarray(row).reshape(1, -1))[0]
    if pixels.size != IMAGE_SIDE * IMAGE_SIDE:
        raise ValueError(f"a digit has {IMAGE_SIDE * IMAGE_SIDE} pixels, got {pixels.size}")
    return pixels.tobytes()


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # No fsync per commit (WAL's usual setting): a killed process loses no committed row; only
    # a power loss or OS crash may undo the last commits. 10x faster commits (feedback/recorder).
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


class PredictionStore:
    """The ``predictions`` table at a SQLAlchemy ``url``, created when missing.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: The database cannot be reached or created.
    """

    def __init__(self, url: str) -> None:
        """Connect to ``url`` and create the table if it does not exist."""
        self.url = url
        self.engine = sa.create_engine(url, pool_pre_ping=True)
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        metadata.create_all(self.engine, checkfirst=True)

    def insert(self, records: Sequence[PredictionRecord]) -> None:
        """Write ``records`` in one transaction (all or none)."""
        if records:
            with self.engine.begin() as connection:
                connection.execute(predictions_table.insert(), [r.row() for r in records])

    def add_feedback(self, items: Iterable[tuple[str, int]]) -> None:
        """Set the label of each ``(prediction_id, label)``: all of them, or none.

        Raises:
            FeedbackError: A label outside 0-9 (422), an unknown id (404), or an id already
                labelled, in this store or twice in ``items`` (409); nothing is written.
        """
        items = list(items)
        seen: set[str] = set()
        for prediction_id, label in items:
            if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label < 10:
                raise FeedbackError(422, f"label {label!r}: allowed labels are 0-9")
            if prediction_id in seen:
                raise FeedbackError(409, f"prediction {prediction_id!r} is given twice")
            seen.add(prediction_id)
        now, table = time.time(), predictions_table
        with self.engine.begin() as connection:
            for prediction_id, label in items:
                updated = connection.execute(
                    table.update()
                    .where(table.c.prediction_id == prediction_id, table.c.label.is_(None))
                    .values(label=label, labelled_at=now)
                )
                if updated.rowcount != 1:
                    raise self._why_not(connection, prediction_id)

    @staticmethod
    def _why_not(connection: Any, prediction_id: str) -> FeedbackError:
        table = predictions_table
        query = sa.select(table.c.label).where(table.c.prediction_id == prediction_id)
        found = connection.execute(query).first()
        if found is None:
            return FeedbackError(404, f"no prediction {prediction_id!r} is recorded")
        return FeedbackError(409, f"prediction {prediction_id!r} is labelled {found.label} already")

    def get(self, prediction_id: str) -> PredictionRecord | None:
        """The record of ``prediction_id``, or ``None``."""
        query = predictions_table.select().where(predictions_table.c.prediction_id == prediction_id)
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return PredictionRecord.from_row(row) if row is not None else None

    def recent(
        self, last: int | None = None, since: float | None = None, until: float | None = None
    ) -> list[PredictionRecord]:
        """The records made in ``[since, until)`` (unix seconds), oldest first.

        Only the newest ``last`` of them, when given.
        """
        table = predictions_table
        query = table.select().order_by(table.c.created_at.desc(), table.c.prediction_id)
        if since is not None:
            query = query.where(table.c.created_at >= since)
        if until is not None:
            query = query.where(table.c.created_at < until)
        if last is not None:
            query = query.limit(last)
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        return [PredictionRecord.from_row(row) for row in reversed(rows)]

    def labelled(self) -> list[PredictionRecord]:
        """Every labelled record, oldest first."""
        table = predictions_table
        query = table.select().where(table.c.label.is_not(None)).order_by(table.c.created_at)
        with self.engine.connect() as connection:
            return [PredictionRecord.from_row(row) for row in connection.execute(query)]

    def count(self) -> int:
        """How many records the store holds."""
        with self.engine.connect() as connection:
            query = sa.select(sa.func.count()).select_from(predictions_table)
            return int(connection.execute(query).scalar_one())

    def prune(self, keep: int) -> int:
        """Delete the oldest unlabelled records beyond the newest ``keep``; labelled ones stay.

        Returns:
            How many records were deleted.
        """
        table = predictions_table
        beyond = (
            sa.select(table.c.prediction_id)
            .where(table.c.label.is_(None))
            .order_by(table.c.created_at.desc())
            .offset(keep)
        )
        with self.engine.begin() as connection:
            deleted = connection.execute(table.delete().where(table.c.prediction_id.in_(beyond)))
        return int(deleted.rowcount or 0)

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()


__all__ = ["NUM_CLASSES", "SOURCES", "PredictionRecord", "PredictionStore", "pixels_of"]
