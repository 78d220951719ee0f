"""``data/feedback/manifest.json``: the feedback stage's snapshot of the labelled predictions."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from mnist_mlops.artifacts.base import FolderFileArtifact


class FeedbackEntry(BaseModel):
    """One labelled prediction: its picture file, the user's label and the model's answer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prediction_id: str
    label: int
    predicted: int
    model_version: str | None
    labelled_at: float
    sha256: str


class FeedbackManifest(FolderFileArtifact):
    """``manifest.json``: every entry (oldest prediction first) and one SHA-256 over them."""

    FILE_NAME = "manifest.json"
    PRODUCER = "feedback"

    sha256: str
    entries: list[FeedbackEntry]
