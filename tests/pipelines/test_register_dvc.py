"""Real `dvc repro` up to the register stage: a champion first, then a challenger that stays one."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from mlflow import MlflowClient

from mnist_mlops.artifacts.metrics import RegisterSummary
from mnist_mlops.config.paths import ProjectPaths
from tests.helpers.workspace import copy_repository, environment

pytestmark = pytest.mark.slow


def repro(root: Path) -> None:
    command = [sys.executable, "-m", "pipelines.with_prefect_server", "dvc", "repro", "register"]
    result = subprocess.run(
        command, cwd=root, env=environment(root), capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]


def test_repro_ends_with_a_registered_champion(tmp_path):
    params = {
        "data": {"source": "mnist_5k"},
        "model": {"hidden_layers": [32]},
        "train": {"epochs": 1},
        "tune": {"n_trials": 0},
    }
    root = copy_repository(tmp_path, params)
    paths = ProjectPaths(root)
    repro(root)
    first = RegisterSummary.read(paths.register_metrics)
    assert first.promoted and first.version == "1"

    params = yaml.safe_load(paths.params_file.read_text())
    params["train"]["seed"] = 7  # a different model...
    params["register"]["min_improvement"] = 0.5  # ...that cannot beat the champion by 50 points
    paths.params_file.write_text(yaml.safe_dump(params, sort_keys=False))
    repro(root)
    second = RegisterSummary.read(paths.register_metrics)
    assert not second.promoted and second.version == "2"
    assert second.champion_accuracy == pytest.approx(first.challenger_accuracy)

    store = environment(root)["MLFLOW_TRACKING_URI"]
    client = MlflowClient(tracking_uri=store, registry_uri=store)
    assert str(client.get_model_version_by_alias("mnist-classifier", "champion").version) == "1"
    assert str(client.get_model_version_by_alias("mnist-classifier", "challenger").version) == "2"
