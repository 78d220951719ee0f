"""The tune stage of the shared `dvc repro`, then resumed to a larger total and back."""

import pytest
import yaml

from mnist_mlops.artifacts.best_params import BestParams
from mnist_mlops.artifacts.metrics import TuneMetrics
from mnist_mlops.config.paths import ProjectPaths
from tests.helpers.workspace import run

pytestmark = pytest.mark.slow
TUNE = ("dvc", "repro", "tune")


def test_repro_tunes_the_tiny_space(pipeline):
    paths = pipeline.paths
    assert "Running stage 'tune'" in pipeline.output
    best = BestParams.read(paths.best_params)
    metrics = TuneMetrics.read(paths.tune_metrics)
    assert best.study == metrics.study and metrics.finished == 2
    assert (metrics.considered_trials, metrics.study_finished_trials) == (2, 2)
    assert best.train.epochs == 2 and 16 <= best.model.hidden_layers[0] <= 64
    assert paths.optuna_journal.is_file()


def test_tune_resumes_to_a_larger_total_and_back(pipeline, project_clone, prefect_api):
    paths = ProjectPaths(project_clone)
    best = BestParams.read(paths.best_params)
    metrics = TuneMetrics.read(paths.tune_metrics)
    params = yaml.safe_load(paths.params_file.read_text())
    params["tune"]["n_trials"] = 3
    paths.params_file.write_text(yaml.safe_dump(params, sort_keys=False))
    again = run(project_clone, *TUNE, PREFECT_API_URL=prefect_api)
    assert "Running stage 'tune'" in again and "Running stage 'preprocess'" not in again
    resumed = TuneMetrics.read(paths.tune_metrics)
    assert resumed.study == metrics.study and resumed.finished == 3
    assert (resumed.considered_trials, resumed.study_finished_trials) == (3, 3)

    # back to 2 trials: the stage runs again (persistent outputs have no DVC run cache) and, the
    # best being chosen among the first n trials, writes the 2-trial outputs again
    params["tune"]["n_trials"] = 2
    paths.params_file.write_text(yaml.safe_dump(params, sort_keys=False))
    assert "Running stage 'tune'" in run(project_clone, *TUNE, PREFECT_API_URL=prefect_api)
    assert BestParams.read(paths.best_params) == best
    again = TuneMetrics.read(paths.tune_metrics)
    assert (again.n_trials_target, again.considered_trials, again.best_trial) == (
        2,
        2,
        metrics.best_trial,
    )
    assert again.best_val_accuracy == metrics.best_val_accuracy
