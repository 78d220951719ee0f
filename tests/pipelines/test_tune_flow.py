import logging

import optuna
import pytest
from pipelines.tune import tune_flow

from mnist_mlops.artifacts.best_params import BestParams
from mnist_mlops.artifacts.metrics import TuneMetrics, TuneSummary
from mnist_mlops.artifacts.processed import save_splits
from mnist_mlops.artifacts.runs import TuneRunInfo
from mnist_mlops.config.params import parse_params
from mnist_mlops.config.paths import ProjectPaths
from mnist_mlops.tuning.outputs import pipeline_study_name
from mnist_mlops.tuning.storage import open_storage
from tests.helpers.tuning import tiny_params_dict, tiny_trial


@pytest.fixture
def paths(tmp_path) -> ProjectPaths:
    """A project in ``tmp_path`` (the default journal lands there), with processed splits."""
    return ProjectPaths(tmp_path)


@pytest.fixture
def project(paths, tiny_splits):
    paths.processed_dir.mkdir(parents=True)
    save_splits(tiny_splits, paths.processed_dir)
    return paths


def run_flow(paths, params):
    return tune_flow(
        params.tune, params.model, params.train, params.mlflow, paths, return_state=True
    )


def written(paths):
    """The tune stage's best params and its record, read back."""
    return BestParams.read(paths.best_params), TuneSummary.read(paths.tune_summary)


def test_zero_trials_skips_tuning(prefect_harness, paths):
    state = run_flow(paths, parse_params(tiny_params_dict(n_trials=0)))
    assert state.is_completed()
    best, metrics = written(paths)
    assert best.to_json() == {"skipped": True}
    assert metrics.to_json() == {"skipped": True}
    assert TuneMetrics.read(paths.tune_metrics).to_json() == {}  # no figure for dvc metrics
    assert TuneRunInfo.read(paths.tune_runs).to_json() == {"skipped": True}
    assert not paths.optuna_journal.exists()


@pytest.mark.slow
def test_flow_tunes_and_writes_best_params_and_metrics(prefect_harness, project):
    paths = project
    params = parse_params(tiny_params_dict(n_trials=1))
    assert run_flow(paths, params).is_completed()
    best, metrics = written(paths)
    assert metrics.study.startswith("tiny-") and metrics.finished == 1
    assert best.study == metrics.study and best.value == metrics.best_val_accuracy
    assert TuneMetrics.read(paths.tune_metrics).val_accuracy == best.value
    runs = TuneRunInfo.read(paths.tune_runs)
    assert runs.parent_run_id == metrics.mlflow_parent_run_id and runs.study == metrics.study
    assert list(runs.trial_run_ids or {}) == ["0"] and runs.experiment == params.mlflow.experiment
    model, train = best.apply(params.model, params.train)
    assert train.epochs in (1, 2) and len(model.hidden_layers) == 1
    # the same params continue the same study; a changed space starts another one
    assert run_flow(paths, params).is_completed()
    storage = open_storage(str(paths.optuna_journal))
    assert len(optuna.load_study(study_name=metrics.study, storage=storage).trials) == 1
    changed = parse_params(tiny_params_dict(n_trials=1, space={"epochs": 1}))
    assert run_flow(paths, changed).is_completed()
    assert TuneSummary.read(paths.tune_summary).study != metrics.study


@pytest.mark.slow
def test_best_params_come_from_the_first_n_trials_of_a_larger_study(
    prefect_harness, project, caplog
):
    paths = project
    two = parse_params(tiny_params_dict(n_trials=2))
    # the stage's study already holds 2 finished trials (their training is tested elsewhere):
    # the stage runs none and writes the better one
    name = pipeline_study_name(two.tune, two.model, two.train, paths.processed_dir)
    storage = open_storage(str(paths.optuna_journal))
    study = optuna.create_study(study_name=name, storage=storage, direction="maximize")
    study.add_trial(tiny_trial(0.5))
    study.add_trial(tiny_trial(0.7, neurons_1=24))
    assert run_flow(paths, two).is_completed()
    first, metrics = written(paths)
    first_bytes = paths.best_params.read_bytes()
    assert (first.study, first.trial, first.value) == (name, 1, 0.7)
    assert (metrics.considered_trials, metrics.study_finished_trials) == (2, 2)

    # the storage outlives the stage: the same study later holds trials 2 and 3 (e.g. run with
    # tune.n_trials: 4, or `mnist-mlops tune --n-trials 4`); make them beat trials 0-1
    for _ in range(2):
        study.add_trial(tiny_trial(2.0))  # validation accuracy is at most 1: these win

    caplog.set_level(logging.WARNING, logger="mnist_mlops.tuning.launch")
    assert run_flow(paths, two).is_completed()  # runs no trial: the study holds 4
    again, metrics = written(paths)
    assert again == first  # the best of trials 0-1, as if the storage held nothing else
    assert paths.best_params.read_bytes() == first_bytes  # the same file, byte for byte
    assert metrics.best_trial == first.trial and metrics.finished == 4
    assert (metrics.considered_trials, metrics.study_finished_trials) == (2, 4)
    warning = f"study {metrics.study} holds 4 finished trials, more than n_trials=2"
    assert warning in caplog.text and "only the first 2" in caplog.text

    four = parse_params(tiny_params_dict(n_trials=4))
    assert run_flow(paths, four).is_completed()  # same study (n_trials is not in its name)
    best, metrics = written(paths)
    assert (best.study, best.trial, best.value) == (metrics.study, 2, 2.0)
    assert metrics.considered_trials == 4
