"""``data/raw/manifest.json``: what the download stage fetched, from where, with checksums.

The preprocess stage checks the raw files against it; every MLflow run is tagged with its data
source and a hash over its checksums (:func:`mnist_mlops.tracking.provenance.data_tags`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from mnist_mlops.artifacts.base import JsonArtifact

MANIFEST_FILE = "manifest.json"


class RawFile(BaseModel):
    """One raw file: its SHA-256 and size."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sha256: str
    bytes: int


class RawManifest(JsonArtifact):
    """The manifest of the raw data folder.

    Attributes:
        source: The source used (``auto`` resolves to ``mnist`` or, offline, ``mnist_5k``).
        source_requested: ``data.source`` as configured.
        fallback_reason: Why ``auto`` fell back to the embedded digits (``None``: it did not).
        format: ``npz`` (Keras's ``mnist.npz``) or ``idx`` files.
        url: Where the files came from.
        has_test_split: Whether the source has an official test split.
        files: Each raw file's checksum and size.
        counts: Images per split.
    """

    PRODUCER = "download"

    source: str
    source_requested: str
    fallback_reason: str | None = None
    format: Literal["npz", "idx"]
    url: str | None = None
    has_test_split: bool
    files: dict[str, RawFile] = {}
    counts: dict[str, int] = {}

    @staticmethod
    def path(raw_dir: str | Path) -> Path:
        """Return the manifest's path inside ``raw_dir``."""
        return Path(raw_dir) / MANIFEST_FILE

    @classmethod
    def load(cls, raw_dir: str | Path) -> RawManifest:
        """Read the manifest of ``raw_dir`` (:class:`MissingArtifactError` when absent)."""
        return cls.read(cls.path(raw_dir))

    def save(self, raw_dir: str | Path) -> None:
        """Write the manifest into ``raw_dir`` atomically."""
        self.write(self.path(raw_dir))

    def raw_sha256(self) -> str:
        """Return one SHA-256 over the raw files' names and checksums (a data version)."""
        checksums = sorted(f"{name}:{entry.sha256}" for name, entry in self.files.items())
        return hashlib.sha256("\n".join(checksums).encode()).hexdigest()
