"""Run names that tell runs apart in the MLflow UI."""

from mnist_mlops.config.params import ModelConfig, OptimizerConfig, TrainConfig
from mnist_mlops.tracking.provenance import DVC_EXP_NAME_ENV, run_name
from mnist_mlops.training.tracked import train_details
from mnist_mlops.tuning.trial_runs import trial_run_name

COMMIT = "9fa0e87c1d2b3a4f5e6d7c8b9a0f1e2d3c4b5a69"


def test_train_run_name_says_params_commit_and_dvc_experiment(monkeypatch):
    details = train_details(
        ModelConfig(hidden_layers=[256, 128], activation="tanh", dropout=0.2),
        TrainConfig(epochs=7, optimizer=OptimizerConfig(name="sgd", learning_rate=0.01)),
    )
    monkeypatch.delenv(DVC_EXP_NAME_ENV, raising=False)
    tags = {"git.commit": COMMIT, "git.dirty": "false"}
    assert run_name("train", details, tags) == (
        "train · 256-128 tanh drop 0.2 · sgd lr 0.01 · 7 ep · @9fa0e87"
    )
    monkeypatch.setenv(DVC_EXP_NAME_ENV, "frail-acts")
    dirty = {"git.commit": COMMIT, "git.dirty": "true"}
    assert run_name("train", ["x"], dirty) == "train · x · @9fa0e87+ · exp frail-acts"
    assert run_name("study s", [], {}) == "study s · exp frail-acts"  # no git: no commit


def test_trial_run_names_say_the_number_and_how_it_ended():
    assert trial_run_name(7) == "trial 7"
    assert trial_run_name(7, "PRUNED") == "trial 7 (pruned)"
    assert trial_run_name(3, "FAIL") == "trial 3 (failed)"
    assert trial_run_name(3, "COMPLETE") == "trial 3"
