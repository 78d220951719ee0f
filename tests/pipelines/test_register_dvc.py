"""The register stage of the shared `dvc repro`, then a changed model that stays challenger."""

import json

import pytest
import yaml
from mlflow import MlflowClient

from mnist_mlops.artifacts.metrics import RegisterSummary
from mnist_mlops.config.paths import RELATIVE, ProjectPaths
from tests.helpers.pipeline import UNCACHED
from tests.helpers.workspace import commit, environment, run

pytestmark = pytest.mark.slow
NAME = "mnist-classifier"


def aliases(root):
    store = environment(root)["MLFLOW_TRACKING_URI"]
    client = MlflowClient(tracking_uri=store, registry_uri=store)
    return {
        alias: str(client.get_model_version_by_alias(NAME, alias).version)
        for alias in ("champion", "challenger")
    }


def test_repro_ends_with_a_registered_champion(pipeline):
    first = RegisterSummary.read(pipeline.paths.register_metrics)
    assert first.promoted and first.version == "1" and first.data_source == "mnist_5k"
    assert aliases(pipeline.root) == {"champion": "1", "challenger": "1"}


def test_a_param_change_reruns_train_and_the_new_model_stays_challenger(
    pipeline, project_clone, prefect_api
):
    paths = ProjectPaths(project_clone)
    first = RegisterSummary.read(paths.register_metrics)
    commit(project_clone, "first pipeline run", *UNCACHED)
    params = yaml.safe_load(paths.params_file.read_text())
    params["train"]["seed"] = 7  # a different model...
    params["register"]["min_improvement"] = 0.5  # ...that cannot beat the champion by 50 points
    paths.params_file.write_text(yaml.safe_dump(params, sort_keys=False))
    # (that a register-only change re-runs register alone follows from each stage's params
    # keys in dvc.yaml, which tests/pipelines/test_dvc_yaml.py checks against the code)
    output = run(project_clone, "dvc", "repro", "register", PREFECT_API_URL=prefect_api)
    for stage in ("train", "evaluate", "register"):
        assert f"Running stage '{stage}'" in output
    assert "Running stage 'tune'" not in output and "Running stage 'preprocess'" not in output
    diff = json.loads(run(project_clone, "dvc", "metrics", "diff", "--json"))
    change = diff[RELATIVE["evaluate_metrics"]]["test_loss"]
    assert change["old"] != change["new"]
    second = RegisterSummary.read(paths.register_metrics)
    assert not second.promoted and second.version == "2"
    assert second.champion_accuracy == pytest.approx(first.challenger_accuracy)
    assert aliases(project_clone) == {"champion": "1", "challenger": "2"}
