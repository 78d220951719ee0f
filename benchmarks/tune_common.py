"""Shared set-up of the tuning benchmarks: the embedded 5,000 digits, processed in a temp dir."""

from __future__ import annotations

from pathlib import Path

from mnist_mlops.config.params import DataConfig, Params, load_params
from mnist_mlops.data.download import download
from mnist_mlops.data.preprocess import preprocess

REPO_ROOT = Path(__file__).resolve().parents[1]


def prepare(root: Path) -> tuple[Params, Path]:
    """Write the processed mnist_5k splits under ``root``; return the params and their folder."""
    params = load_params(REPO_ROOT / "params.yaml")
    download(DataConfig(source="mnist_5k"), root / "raw")
    processed = root / "processed"
    preprocess(params.preprocess, root / "raw", processed)
    return params, processed
