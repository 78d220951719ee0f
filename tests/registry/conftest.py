"""The registry tests' project: its preprocess stage has run (train/evaluate outputs come later)."""

import pytest

from mnist_mlops.config.paths import ProjectPaths
from tests.helpers.models import use_test_store, write_processed


@pytest.fixture
def project(tmp_path, tiny_splits) -> ProjectPaths:
    """A project folder with the tiny splits processed, in a test MLflow store."""
    use_test_store()
    paths = ProjectPaths(tmp_path)
    write_processed(tiny_splits, paths.processed_dir)
    return paths
