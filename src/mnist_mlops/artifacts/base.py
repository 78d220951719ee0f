"""The base of the JSON hand-off files: validated on read, written atomically, deterministic."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, ValidationError

from mnist_mlops.errors import DataError, MissingArtifactError
from mnist_mlops.io import read_json, write_json


class JsonArtifact(BaseModel):
    """A JSON file one stage writes (``PRODUCER``) and another reads; same content, same bytes."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    PRODUCER: ClassVar[str] = "an earlier"
    OMIT_NONE: ClassVar[bool] = False  # True: fields that are None are left out of the file

    def to_json(self) -> dict[str, Any]:
        """Return the JSON-compatible content of the file."""
        return self.model_dump(mode="json", exclude_none=self.OMIT_NONE)

    def write(self, path: str | Path) -> None:
        """Write the file atomically (a temporary file renamed into place)."""
        write_json(path, self.to_json())

    @classmethod
    def read(cls, path: str | Path) -> Self:
        """Read and validate the file.

        Raises:
            MissingArtifactError: The file does not exist (its stage has not run).
            DataError: The file is not valid JSON of this shape.
        """
        path = Path(path)
        if not path.is_file():
            raise MissingArtifactError(f"{path} not found; run the {cls.PRODUCER} stage first")
        try:
            return cls.model_validate(read_json(path))
        except (ValueError, ValidationError) as exc:
            raise DataError(f"{path} is not a valid {cls.__name__} file: {exc}") from None


class FolderFileArtifact(JsonArtifact):
    """A JSON file named ``FILE_NAME`` inside a stage's output folder."""

    FILE_NAME: ClassVar[str]

    @classmethod
    def path(cls, folder: str | Path) -> Path:
        """Return the file's path inside ``folder``."""
        return Path(folder) / cls.FILE_NAME

    @classmethod
    def load(cls, folder: str | Path) -> Self:
        """Read the file of ``folder`` (:class:`MissingArtifactError` when absent)."""
        return cls.read(cls.path(folder))

    def save(self, folder: str | Path) -> None:
        """Write the file into ``folder`` atomically."""
        self.write(self.path(folder))
