import logging

import optuna
import pytest
from pipelines.tune import tune_flow

from mnist_mlops.config import parse_params
from mnist_mlops.data.preprocess import save_splits
from mnist_mlops.io import read_json
from mnist_mlops.tuned import apply_best_params
from mnist_mlops.tuning.storage import open_storage
from tests.tuning.conftest import tiny_params_dict, tiny_trial


@pytest.fixture
def project(tmp_path, monkeypatch, tiny_splits):
    """Work in ``tmp_path`` (the default journal lands there), with processed splits."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "processed").mkdir()
    save_splits(tiny_splits, tmp_path / "processed")
    return tmp_path


def run_flow(tmp_path, params):
    return tune_flow(
        params.tune,
        params.model,
        params.train,
        params.mlflow,
        processed_dir=tmp_path / "processed",
        best_path=tmp_path / "tuning" / "best_params.json",
        metrics_path=tmp_path / "metrics" / "tune.json",
        return_state=True,
    )


def test_zero_trials_skips_tuning(prefect_harness, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    state = run_flow(tmp_path, parse_params(tiny_params_dict(n_trials=0)))
    assert state.is_completed()
    assert read_json(tmp_path / "tuning" / "best_params.json") == {"skipped": True}
    assert read_json(tmp_path / "metrics" / "tune.json") == {"skipped": True}
    assert not (tmp_path / "optuna.journal").exists()


def test_flow_tunes_and_writes_best_params_and_metrics(prefect_harness, tmp_path, project):
    params = parse_params(tiny_params_dict(n_trials=2))
    assert run_flow(tmp_path, params).is_completed()
    best = read_json(tmp_path / "tuning" / "best_params.json")
    metrics = read_json(tmp_path / "metrics" / "tune.json")
    assert metrics["study"].startswith("tiny-") and metrics["finished"] == 2
    assert best["study"] == metrics["study"] and best["value"] == metrics["best_val_accuracy"]
    model, train = apply_best_params(params.model, params.train, best)
    assert train.epochs in (1, 2) and len(model.hidden_layers) == 1
    # the same params continue the same study; a changed space starts another one
    assert run_flow(tmp_path, params).is_completed()
    storage = open_storage(str(tmp_path / "optuna.journal"))
    assert len(optuna.load_study(study_name=metrics["study"], storage=storage).trials) == 2
    changed = parse_params(tiny_params_dict(n_trials=1, space={"epochs": 1}))
    assert run_flow(tmp_path, changed).is_completed()
    assert read_json(tmp_path / "metrics" / "tune.json")["study"] != metrics["study"]


def test_best_params_come_from_the_first_n_trials_of_a_larger_study(
    prefect_harness, tmp_path, project, caplog
):
    two = parse_params(tiny_params_dict(n_trials=2))
    assert run_flow(tmp_path, two).is_completed()
    first = read_json(tmp_path / "tuning" / "best_params.json")
    metrics = read_json(tmp_path / "metrics" / "tune.json")
    assert first["trial"] in (0, 1)
    assert (metrics["considered_trials"], metrics["study_finished_trials"]) == (2, 2)

    # the storage outlives the stage: the same study later holds trials 2 and 3 (e.g. run with
    # tune.n_trials: 4, or `mnist-mlops tune --n-trials 4`); make them beat trials 0-1
    storage = open_storage(str(tmp_path / "optuna.journal"))
    study = optuna.load_study(study_name=metrics["study"], storage=storage)
    for _ in range(2):
        study.add_trial(tiny_trial(2.0))  # validation accuracy is at most 1: these win

    caplog.set_level(logging.WARNING, logger="mnist_mlops.tuning.launch")
    assert run_flow(tmp_path, two).is_completed()  # runs no trial: the study holds 4
    again = read_json(tmp_path / "tuning" / "best_params.json")
    metrics = read_json(tmp_path / "metrics" / "tune.json")
    assert again == first  # the best of trials 0-1, as if the storage held nothing else
    assert metrics["best_trial"] == first["trial"] and metrics["finished"] == 4
    assert (metrics["considered_trials"], metrics["study_finished_trials"]) == (2, 4)
    warning = f"study {metrics['study']} holds 4 finished trials, more than n_trials=2"
    assert warning in caplog.text and "only the first 2" in caplog.text

    four = parse_params(tiny_params_dict(n_trials=4))
    assert run_flow(tmp_path, four).is_completed()  # same study (n_trials is not in its name)
    best = read_json(tmp_path / "tuning" / "best_params.json")
    assert (best["study"], best["trial"], best["value"]) == (metrics["study"], 2, 2.0)
    assert read_json(tmp_path / "metrics" / "tune.json")["considered_trials"] == 4
