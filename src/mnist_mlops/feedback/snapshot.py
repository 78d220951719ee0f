"""``data/feedback/``: the labelled predictions of the store as a versioned snapshot.

One PNG per labelled prediction (``<prediction_id>.png``, the 28x28 input as the model saw it)
and ``manifest.json`` (each record's label, the model's answer, the PNG's SHA-256, and one
SHA-256 over all of them). The bytes depend only on the labelled records, so an unchanged store
gives an unchanged folder and DVC skips every stage after it.
"""

from __future__ import annotations

import hashlib
import io
import logging
from pathlib import Path
from typing import cast

import numpy as np
import sqlalchemy as sa

from mnist_mlops.artifacts.feedback import FeedbackEntry, FeedbackManifest
from mnist_mlops.config.constants import IMAGE_SIDE
from mnist_mlops.errors import DataError
from mnist_mlops.feedback.store import PredictionRecord, PredictionStore
from mnist_mlops.io import atomic_directory, sha256_file

logger = logging.getLogger(__name__)


def png_bytes(image: np.ndarray) -> bytes:
    """Return ``image`` (28x28 uint8) as PNG bytes (no timestamp: same pixels, same bytes)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image, np.uint8), mode="L").save(buffer, format="PNG")
    return buffer.getvalue()


def missing_sqlite_file(url: str) -> bool:
    """Whether ``url`` is a SQLite file that does not exist (nothing served yet: no feedback)."""
    parsed = sa.engine.make_url(url)
    database = parsed.database or ""
    in_a_file = parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:")
    return in_a_file and not Path(database).exists()


def labelled_records(url: str) -> list[PredictionRecord]:
    """Every labelled record of the store at ``url`` (none, without creating it, if absent)."""
    if missing_sqlite_file(url):
        logger.info("no prediction store at %s: an empty feedback snapshot", url)
        return []
    store = PredictionStore(url)
    try:
        return store.labelled()
    finally:
        store.close()


def write_snapshot(records: list[PredictionRecord], folder: Path) -> FeedbackManifest:
    """Write ``records`` (labelled) as PNGs and the manifest into ``folder``, atomically."""
    entries = []
    with atomic_directory(folder) as staging:
        for record in records:
            data = png_bytes(record.image())
            (staging / f"{record.prediction_id}.png").write_bytes(data)
            entries.append(
                FeedbackEntry(
                    prediction_id=record.prediction_id,
                    label=int(cast(int, record.label)),  # (labelled() gives labelled records)
                    predicted=record.digit,
                    model_version=record.model_version,
                    labelled_at=float(cast(float, record.labelled_at)),
                    sha256=hashlib.sha256(data).hexdigest(),
                )
            )
        listing = "\n".join(f"{e.prediction_id}:{e.label}:{e.sha256}" for e in entries)
        manifest = FeedbackManifest(
            sha256=hashlib.sha256(listing.encode()).hexdigest(), entries=entries
        )
        manifest.save(staging)
    logger.info("feedback snapshot: %d labelled pictures in %s", len(entries), folder)
    return manifest


def snapshot_store(url: str, folder: Path) -> FeedbackManifest:
    """Snapshot every labelled prediction of the store at ``url`` into ``folder``."""
    return write_snapshot(labelled_records(url), Path(folder))


def load_snapshot(folder: Path) -> tuple[FeedbackManifest, np.ndarray]:
    """Return the manifest and the ``(N, 28, 28)`` uint8 pictures, in the manifest's order.

    Raises:
        MissingArtifactError: ``folder`` has no manifest (the feedback stage has not run).
        DataError: A picture is missing or does not match its SHA-256.
    """
    from PIL import Image

    manifest = FeedbackManifest.load(folder)
    images = np.zeros((len(manifest.entries), IMAGE_SIDE, IMAGE_SIDE), np.uint8)
    for index, entry in enumerate(manifest.entries):
        path = Path(folder) / f"{entry.prediction_id}.png"
        if not path.is_file() or sha256_file(path) != entry.sha256:
            raise DataError(f"{path} is missing or changed since the snapshot; re-run it")
        with Image.open(path) as picture:
            images[index] = np.asarray(picture.convert("L"))
    return manifest, images
