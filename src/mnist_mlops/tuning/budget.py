"""A lock per study around counting its trials and creating one.

PostgreSQL: an advisory lock; MySQL: a named lock; a journal or SQLite file: ``flock`` of it
(why: docs/decisions/tuning-workers.md).
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
from pathlib import Path
from typing import IO, Any

from mnist_mlops.tuning.storage import is_database

logger = logging.getLogger(__name__)

LOCK_TIMEOUT_S = 120


def lock_key(study: str) -> int:
    """Return a signed 64-bit key for ``study`` (PostgreSQL advisory locks take a bigint)."""
    digest = hashlib.sha256(f"mnist-mlops:{study}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class BudgetLock:
    """An exclusive lock shared by every worker of ``study`` in ``storage`` (URL or journal path).

    ``acquire()`` then ``release()`` (idempotent), or ``with lock:``; ``close()`` at the end.
    """

    def __init__(self, storage: str, study: str) -> None:
        self.storage = storage
        self.study = study
        self._engine: Any = None
        self._connection: Any = None
        self._file: IO[bytes] | None = None

    def _file_path(self) -> Path | None:
        """The file to ``flock``: the journal, or the SQLite database; ``None`` for a server."""
        if not is_database(self.storage):
            return Path(self.storage)
        if self.storage.startswith("sqlite:///"):
            return Path(self.storage.removeprefix("sqlite:///"))
        return None

    def acquire(self) -> None:
        """Block until this worker holds the study's lock."""
        path = self._file_path()
        if path is not None:
            self._file = path.open("ab")
            fcntl.flock(self._file, fcntl.LOCK_EX)
            return
        if self._engine is None:
            from sqlalchemy import create_engine
            from sqlalchemy.pool import NullPool

            self._engine = create_engine(self.storage, poolclass=NullPool)
        from sqlalchemy import text

        self._connection = self._engine.connect()
        dialect = self._engine.dialect.name
        if dialect == "postgresql":
            self._connection.execute(
                text("SELECT pg_advisory_lock(:key)"), {"key": lock_key(self.study)}
            )
        elif dialect == "mysql":
            self._connection.execute(
                text("SELECT GET_LOCK(:name, :timeout)"),
                {"name": f"mnist-mlops-{lock_key(self.study)}", "timeout": LOCK_TIMEOUT_S},
            )
        else:
            logger.debug("no budget lock for %s databases", dialect)
        self._connection.commit()

    def release(self) -> None:
        """Let the next worker count (a no-op when not held)."""
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._connection is not None:
            connection, self._connection = self._connection, None
            # closing the session releases a PostgreSQL advisory or MySQL named lock
            connection.close()

    def close(self) -> None:
        """Release the lock and the database engine."""
        self.release()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def __enter__(self) -> BudgetLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()
