"""Shared fixtures: isolated state per test and tiny synthetic digits."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every test away from the user's caches and stores."""
    monkeypatch.setenv("MNIST_MLOPS_CACHE", str(tmp_path / "download-cache"))
    tracking_uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_uri)
    monkeypatch.delenv("MNIST_MLOPS_OPTUNA_STORAGE", raising=False)
    if "mlflow" in sys.modules:  # an earlier test's set_tracking_uri would win over the env
        sys.modules["mlflow"].set_tracking_uri(tracking_uri)


@pytest.fixture(scope="session")
def prefect_harness():
    """One temporary Prefect server and database for the test session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def make_digits(per_class: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Return learnable synthetic 28x28 uint8 'digits': each class lights its own band."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 40, size=(10 * per_class, 28, 28), dtype=np.uint8)
    labels = np.repeat(np.arange(10, dtype=np.uint8), per_class)
    for index, label in enumerate(labels):
        images[index, 2 * label + 3 : 2 * label + 6, 4:24] = rng.integers(180, 256, size=(3, 20))
    order = rng.permutation(len(labels))
    return images[order], labels[order]


@pytest.fixture
def tiny_splits():
    """Processed train/val/test splits (784 float32 features) of synthetic digits."""
    from mnist_mlops.config import PreprocessConfig
    from mnist_mlops.data.preprocess import make_splits
    from mnist_mlops.data.raw import RawDataset

    images, labels = make_digits(per_class=30)
    return make_splits(RawDataset(images, labels), PreprocessConfig(test_fraction=0.2))
