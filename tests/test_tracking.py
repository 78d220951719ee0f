import subprocess

import mlflow
import pytest

from mnist_mlops.config import MlflowConfig, ModelConfig, TrainConfig
from mnist_mlops.io import write_json
from mnist_mlops.tracking import (
    data_tags,
    flatten_params,
    log_metrics,
    log_params,
    run_tags,
    setup_tracking,
    sqlite_artifact_location,
)


def test_flatten_params_uses_params_yaml_names():
    flat = flatten_params(TrainConfig(), "train") | flatten_params(ModelConfig(), "model")
    assert flat["train.optimizer.name"] == "adam"
    assert flat["train.optimizer.learning_rate"] == "0.001"
    assert flat["train.early_stopping.enabled"] == "False"
    assert flat["model.hidden_layers"] == "[512]"
    assert flatten_params({"a": {"b": [1, 2]}}) == {"a.b": "[1, 2]"}


def test_artifact_location_sits_beside_a_sqlite_database(tmp_path):
    uri = f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}"
    assert sqlite_artifact_location(uri) == (tmp_path / "store" / "mlartifacts").as_uri()
    assert sqlite_artifact_location("http://127.0.0.1:5000") is None


def test_setup_tracking_creates_the_experiment_once(tmp_path):
    first = setup_tracking(MlflowConfig(experiment="exp-a"))
    assert setup_tracking(MlflowConfig(experiment="exp-a")) == first
    experiment = mlflow.get_experiment(first)
    assert experiment.name == "exp-a"
    assert experiment.artifact_location == (tmp_path / "mlartifacts").as_uri()
    with mlflow.start_run() as run:
        mlflow.log_text("x", "a.txt")
    assert (tmp_path / "mlartifacts" / run.info.run_id / "artifacts" / "a.txt").is_file()
    assert not (tmp_path / "mlruns").exists()


def test_default_store_is_mlflow_db_in_the_project_root(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    setup_tracking(MlflowConfig(experiment="exp-b"), root=tmp_path)
    assert mlflow.get_tracking_uri() == f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert (tmp_path / "mlflow.db").is_file()


def test_batched_params_and_metrics(tmp_path):
    setup_tracking(MlflowConfig())
    with mlflow.start_run() as run:
        log_params(run.info.run_id, {f"p{i}": i for i in range(250)})
        log_metrics(run.info.run_id, {"a": 1.5, "nan": float("nan"), "text": "x"}, step=3)
    data = mlflow.get_run(run.info.run_id).data
    assert len(data.params) == 250 and data.params["p249"] == "249"
    assert data.metrics == {"a": 1.5}


def test_run_tags_name_the_commit_and_the_data(tmp_path):
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "f.txt").write_text("x")
    subprocess.run(["git", "add", "f.txt"], cwd=tmp_path, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "c"],
        cwd=tmp_path,
        check=True,
    )
    raw, processed = tmp_path / "raw", tmp_path / "processed"
    write_json(raw / "manifest.json", {"source": "mnist_5k", "files": {"a": {"sha256": "00"}}})
    processed.mkdir()
    (processed / "train_x.npy").write_bytes(b"123")
    tags = run_tags(tmp_path, raw, processed)
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True
    ).stdout.strip()
    assert tags["git.commit"] == commit and tags["git.dirty"] == "false"
    assert tags["data.source"] == "mnist_5k"
    assert len(tags["data.raw_sha256"]) == 64 and len(tags["data.processed_sha256"]) == 64
    (processed / "train_x.npy").write_bytes(b"124")
    assert data_tags(raw, processed)["data.processed_sha256"] != tags["data.processed_sha256"]


@pytest.mark.parametrize("missing", ["raw", "processed"])
def test_data_tags_leave_out_what_is_missing(tmp_path, missing):
    write_json(tmp_path / "raw" / "manifest.json", {"source": "mnist", "files": {}})
    (tmp_path / "processed").mkdir()
    (tmp_path / "processed" / "x.npy").write_bytes(b"1")
    (tmp_path / missing / ("manifest.json" if missing == "raw" else "x.npy")).unlink()
    tags = data_tags(tmp_path / "raw", tmp_path / "processed")
    assert ("data.source" in tags) == (missing != "raw")
    assert ("data.processed_sha256" in tags) == (missing != "processed")
