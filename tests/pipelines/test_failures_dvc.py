"""Failed stages under a real `dvc repro`: previous outputs, dvc.lock and other runs unchanged."""

import shutil
import subprocess

import pytest
import yaml
from mlflow import MlflowClient

from mnist_mlops.artifacts.runs import TrainedRunInfo
from mnist_mlops.config.paths import ProjectPaths
from tests.helpers.httpserver import closed_port_url
from tests.helpers.workspace import environment

pytestmark = pytest.mark.slow
NAME = "mnist-classifier"


def snapshot(path):
    """Every file's bytes under ``path`` (or of the file ``path``)."""
    if path.is_file():
        return {path.name: path.read_bytes()}
    return {p.relative_to(path): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def repro_fails(root, stage: str, params: dict, prefect_api: str) -> str:
    ProjectPaths(root).params_file.write_text(yaml.safe_dump(params, sort_keys=False))
    result = subprocess.run(
        ["dvc", "repro", "--single-item", stage],
        cwd=root,
        env=environment(root, PREFECT_API_URL=prefect_api),
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert f"Running stage '{stage}'" in output
    return output


def test_failed_download_train_and_register_keep_their_outputs_and_dvc_lock(
    project_clone, prefect_api
):
    paths = ProjectPaths(project_clone)
    lock = (project_clone / "dvc.lock").read_bytes()
    original = yaml.safe_load(paths.params_file.read_text())
    outputs = [
        paths.raw_dir,
        paths.trained_dir,
        paths.train_run,
        paths.register_metrics,
        paths.register_run,
        paths.evaluate_metrics,
    ]
    before = {path: snapshot(path) for path in outputs}
    store = environment(project_clone)["MLFLOW_TRACKING_URI"]
    client = MlflowClient(tracking_uri=store, registry_uri=store)
    train_run = TrainedRunInfo.read(paths.train_run).run_id
    train_before = client.get_run(train_run)
    versions = len(client.search_model_versions(f"name = '{NAME}'"))

    # download, offline: connection refused, no retry
    offline = {"source": "mnist", "mirror": closed_port_url(), "retries": 0}
    output = repro_fails(
        project_clone, "download", original | {"data": original["data"] | offline}, prefect_api
    )
    assert "unreachable" in output

    # train: the loss becomes NaN (the tuned params are not used)
    diverging = {
        "model": original["model"] | {"hidden_layers": [64, 64], "activation": "linear"},
        "train": original["train"]
        | {
            "use_tuned": False,
            "epochs": 3,
            "batch_size": 16,
            "optimizer": {"name": "sgd", "learning_rate": 10.0, "momentum": 0.9},
        },
    }
    output = repro_fails(project_clone, "train", original | diverging, prefect_api)
    assert "nan" in output.lower()

    # register: the artifact store cannot be written
    artifacts = paths.mlflow_artifacts
    shutil.rmtree(artifacts)
    artifacts.write_text("not a folder\n")
    stricter = {"register": original["register"] | {"min_improvement": 0.5}}
    repro_fails(project_clone, "register", original | stricter, prefect_api)

    assert {path: snapshot(path) for path in outputs} == before
    assert (project_clone / "dvc.lock").read_bytes() == lock
    # no stage changed another stage's run: the training run is as train left it
    train_after = client.get_run(train_run)
    assert train_after.info.status == "FINISHED"
    assert train_after.info.end_time == train_before.info.end_time
    assert train_after.data.tags == train_before.data.tags
    assert len(client.search_model_versions(f"name = '{NAME}'")) == versions
    failed = client.search_runs(
        [train_before.info.experiment_id],
        filter_string="tags.stage = 'train' and attributes.status = 'FAILED'",
    )
    assert len(failed) == 1  # the diverged training, a run of its own
