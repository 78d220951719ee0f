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
    """The manifest of the raw data folder: source, format, origin, files and counts.

    ``source`` is the one used (``auto`` resolves to ``mnist`` or, offline, ``mnist_5k``, with
    a ``fallback_reason``); ``source_requested`` is ``data.source`` as configured.
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
