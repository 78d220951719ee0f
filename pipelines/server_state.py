"""``.prefect/``'s records: which Prefect server the project runs now, and a failed start."""

from __future__ import annotations

import json
import os
import signal
import time
from contextlib import suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import ClassVar, Self

from mnist_mlops.io import write_json
from mnist_mlops.processes import process_started
from pipelines.prefect_server import healthy

PREFECT_DIR = ".prefect"  # in the project root; git-ignored
STATE_FILE = "server.json"


class FolderRecord:
    """A JSON record in a project's ``.prefect/`` folder, naming that folder (one home).

    A record copied with the project (``cp -r``, a test's clone) names the original folder:
    it is not the copy's, and :meth:`read` ignores it.
    """

    FILE: ClassVar[str]
    folder: str

    @classmethod
    def path(cls, folder: Path) -> Path:
        """Return where the record of ``folder`` lives."""
        return folder / cls.FILE

    @classmethod
    def read(cls, folder: Path) -> Self | None:
        """Return the record of ``folder``; ``None`` if absent, unreadable or another's."""
        try:
            record = cls(**json.loads(cls.path(folder).read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None
        return record if record.folder == str(folder.resolve()) else None

    def write(self, folder: Path) -> None:
        """Write the record (atomically: readers see the old one or the new one)."""
        write_json(self.path(folder), asdict(self))  # type: ignore[call-overload]


@dataclass(frozen=True)
class ServerState(FolderRecord):
    """The project's server as its supervisor wrote it (``server.json``).

    Attributes:
        api_url: The server's API (``http://127.0.0.1:<port>/api``).
        supervisor_pid: The process that started the server and stops it when idle.
        supervisor_started: That process's start time (a reused pid is not it).
        ready: Whether the server has answered its health check.
        folder: The folder it serves (a copied project's record is not its own).
    """

    FILE: ClassVar[str] = STATE_FILE
    api_url: str
    supervisor_pid: int
    supervisor_started: str
    ready: bool
    folder: str

    def clear(self, folder: Path) -> None:
        """Remove the record if it is still this server's (a newer server keeps its own)."""
        if ServerState.read(folder) == self:
            with suppress(FileNotFoundError):
                self.path(folder).unlink()

    def supervisor_alive(self) -> bool:
        """Return whether the supervisor still runs."""
        return process_started(self.supervisor_pid) == self.supervisor_started

    def alive(self) -> bool:
        """Return whether the supervisor runs and the server answers."""
        return self.supervisor_alive() and healthy(self.api_url)

    def signal_supervisor(self) -> None:
        """Ask the supervisor to stop its server now (SIGTERM)."""
        if self.supervisor_alive():
            with suppress(ProcessLookupError):
                os.kill(self.supervisor_pid, signal.SIGTERM)


FAILED_FILE = "start-failed.json"
RETRY_AFTER_S = 300.0  # after a failed start, stages use ephemeral servers this long


@dataclass(frozen=True)
class FailedStart(FolderRecord):
    """``.prefect/start-failed.json``: the project's server would not start, when and why.

    Written by the supervisor whose ``prefect server start`` exited (a start that only timed
    out, under load, is retried by the next stage), removed when a server starts. While recent
    (:data:`RETRY_AFTER_S`), stages fall back to an ephemeral server at once instead of each
    waiting out a start of its own; ``python -m pipelines.project_server stop`` clears it.

    Attributes:
        reason: What went wrong (the details are in ``server.log``).
        at: When (seconds since the epoch).
        folder: The folder whose server failed (a copied project's record is not its own).
    """

    FILE: ClassVar[str] = FAILED_FILE
    reason: str
    at: float
    folder: str

    @classmethod
    def clear(cls, folder: Path) -> None:
        """Remove the record, if any."""
        with suppress(FileNotFoundError):
            cls.path(folder).unlink()

    def age_s(self) -> float:
        """Return how many seconds ago the start failed."""
        return time.time() - self.at

    def recent(self) -> bool:
        """Return whether stages should still not retry (a record from the future is not)."""
        return 0 <= self.age_s() < RETRY_AFTER_S
