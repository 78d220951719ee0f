"""Shared fixtures: isolated state per test and tiny synthetic digits."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import pytest

from tests.helpers.digits import make_digits, npz_bytes

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


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


@pytest.fixture
def tiny_splits():
    """Processed train/val/test splits (784 float32 features) of synthetic digits."""
    from mnist_mlops.config.params import PreprocessConfig
    from mnist_mlops.data.preprocess import make_splits
    from mnist_mlops.data.raw import RawDataset

    images, labels = make_digits(per_class=30)
    return make_splits(RawDataset(images, labels), PreprocessConfig(test_fraction=0.2))


@pytest.fixture
def fake_remote(monkeypatch: pytest.MonkeyPatch) -> bytes:
    """Register a small 'mnist' dataset whose checksum matches what the loopback server serves."""
    from mnist_mlops.data import download as download_module
    from mnist_mlops.data.sources import MNIST_NPZ, RemoteDataset, RemoteFile

    body = npz_bytes()
    dataset = RemoteDataset(
        "mnist",
        "http://unused/",
        "npz",
        (RemoteFile(MNIST_NPZ, hashlib.sha256(body).hexdigest(), len(body)),),
    )
    monkeypatch.setitem(download_module.REMOTE_DATASETS, "mnist", dataset)
    return body
