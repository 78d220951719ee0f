import subprocess

import mlflow
import numpy as np
import pytest

from mnist_mlops.artifacts.manifest import RawFile, RawManifest
from mnist_mlops.artifacts.processed import Split, processed_hash, save_splits
from mnist_mlops.config.params import MlflowConfig, ModelConfig, TrainConfig
from mnist_mlops.config.paths import RELATIVE, ProjectPaths
from mnist_mlops.tracking.log import flatten_params, log_metrics, log_params
from mnist_mlops.tracking.provenance import data_tags, git_commit, run_tags
from mnist_mlops.tracking.setup import setup_tracking, sqlite_artifact_location


def write_manifest(raw_dir, source="mnist_5k", files=None) -> RawManifest:
    manifest = RawManifest(
        source=source,
        source_requested=source,
        format="idx",
        has_test_split=False,
        files=files or {},
    )
    manifest.save(raw_dir)
    return manifest


def write_split(processed_dir, value: int) -> None:
    processed_dir.mkdir(parents=True, exist_ok=True)
    x = np.full((2, 784), value / 255, dtype=np.float32)
    save_splits({"train": Split(x, np.array([value, value], dtype=np.int32))}, processed_dir)


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
    first = setup_tracking(MlflowConfig(experiment="exp-a"), tmp_path)
    assert setup_tracking(MlflowConfig(experiment="exp-a"), tmp_path) == first
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
    setup_tracking(MlflowConfig(), tmp_path)
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
    write_manifest(raw, files={"a": RawFile(sha256="00", bytes=1)})
    processed.mkdir()
    write_split(processed, 1)
    tags = run_tags(tmp_path, raw, processed)
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True
    ).stdout.strip()
    assert tags["git.commit"] == commit and tags["git.dirty"] == "false"
    assert tags["data.source"] == "mnist_5k"
    assert len(tags["data.raw_sha256"]) == 64 and len(tags["data.processed_sha256"]) == 64
    write_split(processed, 2)
    assert data_tags(raw, processed)["data.processed_sha256"] != tags["data.processed_sha256"]


@pytest.mark.parametrize("missing", ["raw", "processed"])
def test_data_tags_leave_out_what_is_missing(tmp_path, missing):
    write_manifest(tmp_path / "raw", source="mnist")
    (tmp_path / "processed").mkdir()
    (tmp_path / "processed" / "x.npy").write_bytes(b"1")
    if missing == "raw":
        RawManifest.path(tmp_path / "raw").unlink()
    else:
        (tmp_path / "processed" / "x.npy").unlink()
    tags = data_tags(tmp_path / "raw", tmp_path / "processed")
    assert ("data.source" in tags) == (missing != "raw")
    assert ("data.processed_sha256" in tags) == (missing != "processed")


def test_tags_hash_the_given_folders_not_the_current_directorys(tmp_path, monkeypatch):
    """A run trained on folder X is tagged with X's hashes, wherever the process runs."""
    elsewhere = ProjectPaths(tmp_path / "elsewhere")  # the cwd, with its own data/ folders
    write_manifest(elsewhere.raw_dir, source="mnist", files={"a": RawFile(sha256="aa", bytes=1)})
    write_split(elsewhere.processed_dir, 1)
    project = ProjectPaths(tmp_path / "project")
    given = write_manifest(project.raw_dir, files={"b": RawFile(sha256="bb", bytes=2)})
    write_split(project.processed_dir, 2)
    monkeypatch.chdir(elsewhere.root)

    tags = data_tags(project.raw_dir, project.processed_dir)
    assert tags["data.processed_sha256"] == processed_hash(project.processed_dir)
    assert tags["data.processed_sha256"] != processed_hash(elsewhere.processed_dir)
    assert tags["data.raw_sha256"] == given.raw_sha256() and tags["data.source"] == "mnist_5k"
    tagged = run_tags(project.root, project.raw_dir, project.processed_dir)
    assert tagged["data.processed_sha256"] == processed_hash(project.processed_dir)
    assert tagged["data.raw_sha256"] == given.raw_sha256()
    with pytest.raises(TypeError):  # no implicit cwd-relative folders any more
        run_tags(project.root)  # type: ignore[call-arg]


def test_git_dirty_ignores_the_pipelines_own_outputs_not_code_or_params(tmp_path):
    plot = f"{RELATIVE['plots_dir']}/a.csv"
    files = {"params.yaml": "a: 1\n", "dvc.lock": "x\n", "metrics/m.json": "{}\n", plot: "a\n"}
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", "."], cwd=tmp_path, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "c"],
        cwd=tmp_path,
        check=True,
    )
    for name in ("dvc.lock", "metrics/m.json", plot):  # what a repro rewrites
        (tmp_path / name).write_text("changed by a repro\n")
    commit, dirty = git_commit(tmp_path)
    assert commit and dirty is False
    (tmp_path / "params.yaml").write_text("a: 2\n")  # a params (or code) change is dirty
    assert git_commit(tmp_path) == (commit, True)
