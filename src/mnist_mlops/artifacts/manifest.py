"""``data/raw/manifest.json``: what the download stage fetched, from where, with checksums."""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import BaseModel, ConfigDict

from mnist_mlops.artifacts.base import FolderFileArtifact

MANIFEST_FILE = "manifest.json"


class RawFile(BaseModel):
    """One raw file: its SHA-256 and size."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sha256: str
    bytes: int


class RawManifest(FolderFileArtifact):
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

    FILE_NAME = MANIFEST_FILE
    PRODUCER = "download"

    source: str
    source_requested: str
    fallback_reason: str | None = None
    format: Literal["npz", "idx"]
    url: str | None = None
    has_test_split: bool
    files: dict[str, RawFile] = {}
    counts: dict[str, int] = {}

    def raw_sha256(self) -> str:
        """Return one SHA-256 over the raw files' names and checksums (a data version)."""
        checksums = sorted(f"{name}:{entry.sha256}" for name, entry in self.files.items())
        return hashlib.sha256("\n".join(checksums).encode()).hexdigest()
