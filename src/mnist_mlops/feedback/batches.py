"""What the recorder queues, and why a write failed (``locked``, ``full``, ...)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa

from mnist_mlops.feedback.store import PredictionRecord


@dataclass(frozen=True)
class QueuedBatch:
    """One request's answers, as queued: :meth:`records` turns them into store rows."""

    ids: list[str]
    created_at: float
    model: tuple[str | None, str | None, str | None]
    source: str
    latency_ms: float
    pixels: np.ndarray  # (N, 784) uint8
    answers: list[tuple[int, tuple[float, ...]]]

    def records(self) -> list[PredictionRecord]:
        """One record per answer."""
        name, version, alias = self.model
        return [
            PredictionRecord(
                prediction_id=prediction_id,
                created_at=self.created_at,
                model_name=name,
                model_version=version,
                model_alias=alias,
                source=self.source,
                digit=digit,
                confidence=max(probabilities),
                probabilities=probabilities,
                pixels=row.tobytes(),
                latency_ms=self.latency_ms,
            )
            for prediction_id, row, (digit, probabilities) in zip(
                self.ids, self.pixels, self.answers, strict=True
            )
        ]


def drop_reason(error: BaseException) -> str:
    """Why a write failed: ``locked`` (worth a retry), ``full``, ``read_only``, ``io_error``.

    ``unavailable``: anything else (unreachable, cannot be opened).
    """
    cause = getattr(error, "orig", None) or error
    name = str(getattr(cause, "sqlite_errorname", ""))
    state = str(getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None) or "")
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or state in ("40001", "40P01", "55P03"):
        return "locked"
    if name == "SQLITE_FULL" or state == "53100":
        return "full"
    if name.startswith("SQLITE_READONLY") or state == "25006":
        return "read_only"
    if name.startswith("SQLITE_IOERR"):  # a failing disk, or a file size limit (EFBIG)
        return "io_error"
    return "unavailable"


def shown_url(url: str) -> str:
    """``url`` without a password."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "(an invalid URL)"
