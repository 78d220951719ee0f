"""A real `dvc repro` of the pipeline in a temporary copy of the repository."""

import shutil
import sys
from pathlib import Path

import pytest
import yaml

from mnist_mlops.artifacts.manifest import RawManifest
from mnist_mlops.artifacts.processed import split_files
from mnist_mlops.config.paths import ProjectPaths
from tests.helpers.workspace import copy_repository, run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    return copy_repository(tmp_path_factory.mktemp("repo"), {"data": {"source": "mnist_5k"}})


def test_repro_runs_both_data_stages_then_is_a_no_op(repo):
    first = run(
        repo, sys.executable, "-m", "pipelines.with_prefect_server", "dvc", "repro", "preprocess"
    )
    assert "Running stage 'download'" in first and "Running stage 'preprocess'" in first
    paths = ProjectPaths(repo)
    assert split_files(paths.processed_dir, "train")[0].is_file()
    assert (paths.reports_dir / "samples.png").is_file()
    second = run(repo, "dvc", "repro", "preprocess")
    assert "Running stage" not in second
    assert "up to date" in second


def test_changing_a_preprocess_param_reruns_only_preprocess(repo):
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["preprocess"]["seed"] = 43
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    output = run(repo, "dvc", "repro", "preprocess")
    assert "Running stage 'preprocess'" in output
    assert "Running stage 'download'" not in output


def test_push_and_pull_through_the_default_local_remote(repo):
    run(repo, "dvc", "push", "--with-deps", "preprocess")
    paths = ProjectPaths(repo)
    manifest = RawManifest.path(paths.raw_dir).read_bytes()
    shutil.rmtree(paths.raw_dir)
    shutil.rmtree(repo / ".dvc/cache")
    run(repo, "dvc", "pull", "--with-deps", "preprocess")
    assert RawManifest.path(paths.raw_dir).read_bytes() == manifest
    assert (repo / ".dvcstore").is_dir()
    assert "up to date" in run(repo, "dvc", "status", "preprocess")
