"""`dvc repro tune` in a temporary copy of the repository: real DVC, Prefect, Optuna, MLflow."""

import sys
from pathlib import Path

import pytest
import yaml

from mnist_mlops.artifacts.best_params import BestParams
from mnist_mlops.artifacts.metrics import TuneMetrics
from mnist_mlops.config.paths import ProjectPaths
from tests.helpers.workspace import copy_repository, run

pytestmark = pytest.mark.slow

TINY_SPACE = {
    "epochs": 1,
    "n_layers": 1,
    "neurons": {"low": 16, "high": 64, "log": True},
    "activation": ["relu", "tanh"],
    "optimizer": "adam",
    "learning_rate": {"low": 0.001, "high": 0.01, "log": True},
    "batch_size": [128],
    "dropout": 0.0,
}


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    return copy_repository(
        tmp_path_factory.mktemp("repo"),
        {"data": {"source": "mnist_5k"}, "tune": {"n_trials": 2, "space": TINY_SPACE}},
    )


def test_repro_tunes_then_is_a_no_op_and_resumes_to_a_larger_total(repo):
    command = [sys.executable, "-m", "pipelines.with_prefect_server", "dvc", "repro", "tune"]
    paths = ProjectPaths(repo)
    first = run(repo, *command)
    assert "Running stage 'tune'" in first
    best = BestParams.read(paths.best_params)
    metrics = TuneMetrics.read(paths.tune_metrics)
    assert best.study == metrics.study and metrics.finished == 2
    assert best.train.epochs == 1 and 16 <= best.model.hidden_layers[0] <= 64
    assert paths.optuna_journal.is_file()
    assert "up to date" in run(repo, "dvc", "repro", "tune")

    params = yaml.safe_load(paths.params_file.read_text())
    params["tune"]["n_trials"] = 3
    paths.params_file.write_text(yaml.safe_dump(params, sort_keys=False))
    again = run(repo, *command)
    assert "Running stage 'tune'" in again and "Running stage 'preprocess'" not in again
    resumed = TuneMetrics.read(paths.tune_metrics)
    assert resumed.study == metrics.study and resumed.finished == 3
    assert (resumed.considered_trials, resumed.study_finished_trials) == (3, 3)

    # back to 2 trials: DVC's run cache restores the 2-trial outputs, and running the stage
    # again gives the same file although the study now holds 3 trials
    params["tune"]["n_trials"] = 2
    paths.params_file.write_text(yaml.safe_dump(params, sort_keys=False))
    assert "Stage 'tune' is cached" in run(repo, *command)
    assert BestParams.read(paths.best_params) == best
    assert "Running stage 'tune'" in run(repo, *command, "--force", "--single-item")
    assert BestParams.read(paths.best_params) == best
    lowered = TuneMetrics.read(paths.tune_metrics)
    assert (lowered.considered_trials, lowered.study_finished_trials) == (2, 3)
