"""Register under faults: a model below the floor, a register killed between log and version."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mlflow import MlflowClient
from mlflow.entities import LoggedModelStatus

from mnist_mlops.config.params import RegisterConfig
from mnist_mlops.errors import BelowFloorError
from mnist_mlops.registry.copies import COPY_TAGS
from mnist_mlops.registry.lock import lock_name
from tests.helpers.models import register_trained, tiny_model, write_trained
from tests.helpers.workspace import REPO_ROOT

NAME = "mnist-classifier"


@pytest.fixture
def paths(project):
    return project


def run_register(paths, config):
    return register_trained(paths, config)[1]


def copies(run_id):
    """The register's model copies of the training run (logged models not deleted)."""
    client = MlflowClient()
    experiment = client.get_run(run_id).info.experiment_id
    found = client.search_logged_models([experiment], f"source_run_id = '{run_id}'")
    return [model for model in found if COPY_TAGS.items() <= model.tags.items()]


def test_a_model_below_the_floor_is_refused_and_nothing_is_registered(paths, tiny_splits):
    diverged = tiny_model(None, seed=1)  # untrained weights: chance-level, like a diverged fit
    run_id = write_trained(diverged, paths, tiny_splits["test"])
    config = RegisterConfig(model_name=NAME)
    assert config.min_accuracy == 0.5  # the default

    with pytest.raises(BelowFloorError) as refused:
        run_register(paths, config)

    message = str(refused.value)
    assert "is below register.min_accuracy 0.5" in message and "nothing was" in message
    client = MlflowClient()
    assert client.search_registered_models() == []  # no model, no version, no lock left
    assert copies(run_id) == []
    # the same model passes a floor it reaches
    summary = run_register(paths, RegisterConfig(model_name=NAME, min_accuracy=0.0))
    assert summary.version == "1"


KILLED_REGISTER = """
import sys
import time
from pathlib import Path
from mnist_mlops.config.params import RegisterConfig
from mnist_mlops.config.paths import ProjectPaths
from mnist_mlops.registry import register as stage
publish = stage.publish
def held_publish(*args, **kwargs):  # the copy is logged; held here until killed
    time.sleep(600)
    return publish(*args, **kwargs)
stage.publish = held_publish
paths = ProjectPaths(Path(sys.argv[1]))
stage.register(RegisterConfig(model_name=sys.argv[2], min_accuracy=0), paths.trained_dir,
         paths.train_run, paths.evaluate_metrics, paths.processed_dir, paths.root)
"""


@pytest.mark.slow
def test_a_register_killed_after_logging_leaves_no_lock_wait_and_no_copy(paths, tiny_splits):
    run_id = write_trained(tiny_model(tiny_splits["train"]), paths, tiny_splits["test"])
    killed = subprocess.Popen(
        [sys.executable, "-c", KILLED_REGISTER, str(paths.root), NAME], cwd=REPO_ROOT
    )  # the test's store: MLFLOW_TRACKING_URI is inherited
    try:
        deadline = time.monotonic() + 300
        while not [c for c in copies(run_id) if c.status == LoggedModelStatus.READY]:
            assert killed.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        os.kill(killed.pid, signal.SIGSTOP)  # frozen: check it registered nothing yet
        assert MlflowClient().search_model_versions(f"name = '{NAME}'") == []
    finally:
        os.kill(killed.pid, signal.SIGKILL)  # kill -9 holding the lock, its copy logged
        killed.wait()
    [left] = copies(run_id)
    folder = Path(left.artifact_location.removeprefix("file://"))
    assert folder.is_dir() and lock_name(NAME) in {
        model.name for model in MlflowClient().search_registered_models()
    }

    start = time.monotonic()
    summary = run_register(paths, RegisterConfig(model_name=NAME, min_accuracy=0))
    assert time.monotonic() - start < 120  # not the 300 s wait for the dead holder
    assert summary.version == "1"
    assert not folder.exists()  # the killed register's copy is gone...
    [kept] = copies(run_id)  # ...and the one copy left is the registered version's
    assert f"models:/{kept.model_id}" == summary.logged_model_uri
