"""The whole pipeline by a real `dvc repro` (tests/pipelines/conftest.py), then data changes."""

import shutil

import pytest
import yaml

from mnist_mlops.artifacts.manifest import RawManifest
from mnist_mlops.artifacts.processed import split_files
from mnist_mlops.config.paths import ProjectPaths
from tests.helpers.pipeline import ALWAYS_RUN, stages_run, up_to_date
from tests.helpers.workspace import REPO_ROOT, run

pytestmark = pytest.mark.slow
STAGES = tuple(yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["stages"])


def test_repro_runs_every_stage_then_is_a_no_op(pipeline):
    for stage in STAGES:
        assert f"Running stage '{stage}'" in pipeline.output
    paths = pipeline.paths
    assert split_files(paths.processed_dir, "train")[0].is_file()
    assert (paths.reports_dir / "samples.png").is_file()
    second = run(pipeline.root, "dvc", "repro")
    assert stages_run(second) == ALWAYS_RUN  # the same (empty) snapshot: nothing after it runs
    assert up_to_date(run(pipeline.root, "dvc", "status", "--json"))


def test_changing_a_preprocess_param_reruns_only_preprocess(project_clone, prefect_api):
    params = yaml.safe_load((project_clone / "params.yaml").read_text())
    params["preprocess"]["seed"] = 43
    (project_clone / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    output = run(project_clone, "dvc", "repro", "preprocess", PREFECT_API_URL=prefect_api)
    assert "Running stage 'preprocess'" in output
    assert "Running stage 'download'" not in output


def test_push_and_pull_through_the_default_local_remote(project_clone):
    repo = project_clone
    run(repo, "dvc", "push", "--with-deps", "preprocess")
    paths = ProjectPaths(repo)
    manifest = RawManifest.path(paths.raw_dir).read_bytes()
    shutil.rmtree(paths.raw_dir)
    shutil.rmtree(repo / ".dvc/cache")
    run(repo, "dvc", "pull", "--with-deps", "preprocess")
    assert RawManifest.path(paths.raw_dir).read_bytes() == manifest
    assert (repo / ".dvcstore").is_dir()
    assert "up to date" in run(repo, "dvc", "status", "preprocess")
