"""Register never reopens the training run: a failure there leaves that run as it was."""

import shutil

import pytest
from mlflow import MlflowClient

from mnist_mlops.config.params import RegisterConfig
from mnist_mlops.config.paths import ProjectPaths
from mnist_mlops.registry.register import register
from mnist_mlops.tracking.setup import ARTIFACTS_DIR_NAME
from tests.helpers.models import tiny_model, use_test_store, write_processed, write_trained

NAME = "mnist-classifier"


def run_state(run_id):
    run = MlflowClient().get_run(run_id)
    return run.info.status, run.info.end_time, dict(run.data.tags)


@pytest.fixture
def trained(tmp_path, tiny_splits):
    """A project with processed splits and a trained model whose train run is finished."""
    use_test_store()
    paths = ProjectPaths(tmp_path)
    write_processed(tiny_splits, paths.processed_dir)
    run_id = write_trained(tiny_model(), paths, tiny_splits["test"])
    return paths, run_id


def test_a_failed_register_leaves_the_training_run_untouched(tmp_path, trained):
    paths, run_id = trained
    before = run_state(run_id)
    artifacts = MlflowClient().get_experiment(MlflowClient().get_run(run_id).info.experiment_id)
    store = artifacts.artifact_location.removeprefix("file://")
    assert store.endswith(ARTIFACTS_DIR_NAME)
    shutil.rmtree(store, ignore_errors=True)
    open(store, "w").close()  # the artifact store cannot be written (even by root)

    config = RegisterConfig(model_name=NAME, min_accuracy=0)  # an untrained model
    with pytest.raises(OSError):
        register(
            config,
            paths.trained_dir,
            paths.train_run,
            paths.evaluate_metrics,
            paths.processed_dir,
            tmp_path,
        )
    assert run_state(run_id) == before
    assert MlflowClient().search_model_versions(f"name = '{NAME}'") == []


def test_the_registered_model_names_the_training_run_as_its_source(tmp_path, trained):
    paths, run_id = trained
    status, end_time, _ = run_state(run_id)
    summary = register(
        RegisterConfig(model_name=NAME, min_accuracy=0),  # an untrained model
        paths.trained_dir,
        paths.train_run,
        paths.evaluate_metrics,
        paths.processed_dir,
        tmp_path,
    )
    client = MlflowClient()
    model_id = summary.logged_model_uri.removeprefix("models:/")
    assert client.get_logged_model(model_id).source_run_id == run_id
    assert client.get_model_version(NAME, summary.version).run_id == run_id
    outputs = client.get_run(run_id).outputs.model_outputs
    assert [output.model_id for output in outputs] == [model_id]
    assert run_state(run_id)[:2] == (status, end_time) == ("FINISHED", end_time)
