"""Read and validate the raw dataset that the download stage left in its folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnist_mlops.artifacts.manifest import RawManifest
from mnist_mlops.config.constants import IMAGE_SIDE, NUM_CLASSES
from mnist_mlops.data.idx import read_idx
from mnist_mlops.data.sources import IDX_FILES, MNIST_NPZ
from mnist_mlops.errors import DataError
from mnist_mlops.io import sha256_file


@dataclass(frozen=True)
class RawDataset:
    """Images (N, 28, 28) uint8 and labels (N,) of the train and, if any, official test split."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None

    def counts(self) -> dict[str, int]:
        """Return the number of examples per split."""
        counts = {"train": len(self.y_train)}
        if self.y_test is not None:
            counts["test"] = len(self.y_test)
        return counts


def validate_split(name: str, images: np.ndarray, labels: np.ndarray) -> None:
    """Check one split: 28x28 uint8 images, labels 0-9, every class present, equal lengths.

    Raises:
        DataError: Naming the split and what is wrong.
    """
    if images.ndim != 3 or images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise DataError(f"{name} images must have shape (N, 28, 28), got {images.shape}")
    if images.dtype != np.uint8:
        raise DataError(f"{name} images must be uint8 (0-255), got {images.dtype}")
    if labels.ndim != 1:
        raise DataError(f"{name} labels must be one-dimensional, got shape {labels.shape}")
    if len(images) != len(labels):
        raise DataError(f"{name}: {len(images)} images but {len(labels)} labels")
    if len(labels) == 0:
        raise DataError(f"{name} split is empty")
    if labels.min() < 0 or labels.max() >= NUM_CLASSES:
        raise DataError(
            f"{name} labels must lie in 0-9, found {int(labels.min())}..{int(labels.max())}"
        )
    missing = sorted(set(range(NUM_CLASSES)) - set(np.unique(labels).tolist()))
    if missing:
        raise DataError(f"{name} split lacks classes {missing}; every digit 0-9 must be present")


def idx_names(stem: str) -> tuple[str, ...]:
    """Return the accepted names of an IDX file, e.g. ``train-images-idx3-ubyte``.

    Also the common ``train-images.idx3-ubyte``; each plain or ``.gz``.
    """
    dotted = stem.replace("-idx", ".idx")
    return (stem, f"{stem}.gz", dotted, f"{dotted}.gz")


def find_idx(folder: Path, stem: str) -> Path | None:
    """Return the first of ``folder``/:func:`idx_names` that exists, else ``None``."""
    for name in idx_names(stem):
        if (folder / name).is_file():
            return folder / name
    return None


def verify_checksums(folder: str | Path, manifest: RawManifest) -> None:
    """Check every file listed in ``manifest`` against its SHA-256.

    Raises:
        DataError: A listed file is missing or its content changed.
    """
    folder = Path(folder)
    for name, entry in manifest.files.items():
        path = folder / name
        if not path.is_file():
            raise DataError(f"{path} is listed in the manifest but missing; rerun `dvc repro`")
        if sha256_file(path) != entry.sha256:
            raise DataError(f"{path} does not match its manifest checksum; rerun the download")


def _read_arrays(folder: Path, manifest: RawManifest) -> dict[str, np.ndarray]:
    """Read the raw arrays in the manifest's ``format`` (``npz`` archive or IDX files)."""
    if manifest.format == "npz":
        with np.load(folder / MNIST_NPZ, allow_pickle=False) as archive:
            return {key: archive[key] for key in ("x_train", "y_train", "x_test", "y_test")}
    arrays = {}
    for key, target in (
        ("train_images", "x_train"),
        ("train_labels", "y_train"),
        ("test_images", "x_test"),
        ("test_labels", "y_test"),
    ):
        path = find_idx(folder, IDX_FILES[key])
        if path is not None:
            arrays[target] = read_idx(path)
    if "x_train" not in arrays or "y_train" not in arrays:
        raise DataError(f"{folder}: the training images or labels are missing")
    return arrays


def load_raw(folder: str | Path, manifest: RawManifest | None = None) -> RawDataset:
    """Load and validate the raw dataset in ``folder``.

    ``manifest``: one just computed (checksums not verified again); ``None``: read it from
    ``folder`` and verify every file.

    Raises:
        MissingArtifactError: ``folder`` has no manifest (the download stage has not run).
        DataError: Missing or corrupted files, or invalid contents.
    """
    folder = Path(folder)
    if manifest is None:
        manifest = RawManifest.load(folder)
        verify_checksums(folder, manifest)
    dataset = RawDataset(**_read_arrays(folder, manifest))
    validate_split("train", dataset.x_train, dataset.y_train)
    if (dataset.x_test is None) != (dataset.y_test is None):
        raise DataError(f"{folder}: the test split has images without labels or vice versa")
    if dataset.x_test is not None and dataset.y_test is not None:
        validate_split("test", dataset.x_test, dataset.y_test)
    return dataset
