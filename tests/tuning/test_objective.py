import dataclasses

import numpy as np
import optuna
import pytest
from mlflow import MlflowClient
from optuna.trial import TrialState

from mnist_mlops.config.params import MlflowConfig, ModelConfig, TrainConfig
from mnist_mlops.config.space import SearchSpace
from mnist_mlops.tracking.setup import setup_tracking
from mnist_mlops.training.fit import fit
from mnist_mlops.tuning.objective import Objective
from mnist_mlops.tuning.space import rebuild
from mnist_mlops.tuning.storage import open_storage
from mnist_mlops.tuning.trial_runs import TrialRuns

pytestmark = pytest.mark.filterwarnings("ignore:Heartbeat of storage:UserWarning")

SPACE = SearchSpace.model_validate({"neurons": {"low": 8, "high": 16}, "epochs": 2})


@pytest.fixture
def runs(tmp_path):
    import mlflow

    experiment_id = setup_tracking(MlflowConfig(experiment="tune-test"), tmp_path)
    client = MlflowClient()
    parent = client.create_run(experiment_id, run_name="parent").info.run_id
    return TrialRuns(mlflow.get_tracking_uri(), experiment_id, parent, "s")


def children(runs: TrialRuns):
    return MlflowClient(runs.tracking_uri).search_runs(
        [runs.experiment_id], f"tags.mlflow.parentRunId = '{runs.parent_run_id}'"
    )


def make_objective(splits, runs, train=None):
    return Objective(
        train_split=splits["train"],
        val_split=splits["val"],
        space=SPACE,
        model=ModelConfig(hidden_layers=[8]),
        train=train or TrainConfig(epochs=1, batch_size=32),
        seed=1,
        runs=runs,
    )


def test_complete_trial_reports_every_epoch_and_is_a_nested_run(tiny_splits, runs, tmp_path):
    study = optuna.create_study(storage=open_storage(str(tmp_path / "j.log")), direction="maximize")
    study.optimize(make_objective(tiny_splits, runs), n_trials=1)
    trial = study.trials[0]
    assert trial.state == TrialState.COMPLETE
    assert sorted(trial.intermediate_values) == [1, 2]
    assert trial.value == trial.intermediate_values[2]
    [child] = children(runs)
    assert child.info.status == "FINISHED"
    assert child.data.tags["optuna.trial_state"] == "COMPLETE"
    assert child.data.params["model.hidden_layers"] == f"[{trial.params['neurons_1']}]"
    assert child.data.metrics["trial_duration_s"] > 0
    history = MlflowClient().get_metric_history(child.info.run_id, "val_accuracy")
    assert [m.step for m in history] == [1, 2]


@pytest.mark.slow
def test_pruned_trial_is_pruned_in_optuna_and_in_mlflow(tiny_splits, runs, tmp_path):
    study = optuna.create_study(
        storage=open_storage(str(tmp_path / "j.log")),
        direction="maximize",
        pruner=optuna.pruners.ThresholdPruner(lower=2.0),  # accuracy < 2: always prune
    )
    study.optimize(make_objective(tiny_splits, runs), n_trials=2)
    assert [t.state for t in study.trials] == [TrialState.PRUNED, TrialState.PRUNED]
    assert study.trials[0].user_attrs["reason"].startswith("pruned at epoch 1: val_accuracy")
    assert all(list(t.intermediate_values) == [1] for t in study.trials)  # stopped at epoch 1
    states = {(r.data.tags["optuna.trial_state"], r.info.status) for r in children(runs)}
    assert states == {("PRUNED", "FINISHED")}  # not KILLED: a pruned trial did not crash
    names = {r.info.run_name for r in children(runs)}
    assert names == {f"trial {t.number} (pruned)" for t in study.trials}
    assert all(r.data.tags["optuna.reason"].startswith("pruned at epoch 1") for r in children(runs))


@pytest.mark.slow
def test_nan_loss_prunes_with_the_reason_and_the_study_goes_on(tiny_splits, runs, tmp_path):
    poisoned_x = tiny_splits["train"].x.copy()
    poisoned_x[:5] = 3e38  # may overflow in the first layer (then the loss becomes NaN) ...
    poisoned_x[5:10] = np.inf  # ... this does: NaN weights, though Keras reports a finite loss
    poisoned = dataclasses.replace(tiny_splits["train"], x=poisoned_x)
    study = optuna.create_study(storage=open_storage(str(tmp_path / "j.log")), direction="maximize")
    bad = dataclasses.replace(make_objective(tiny_splits, runs), train_split=poisoned)
    study.optimize(bad, n_trials=1)
    study.optimize(make_objective(tiny_splits, runs), n_trials=1)
    first, second = study.trials
    assert first.state == TrialState.PRUNED
    assert first.user_attrs["reason"] in (
        "non-finite loss (nan) at epoch 1",
        "non-finite weights at epoch 1",
    )
    assert first.intermediate_values == {}  # the epoch the loss guard stopped is not reported
    assert second.state == TrialState.COMPLETE
    tags = {r.data.tags["optuna.trial_number"]: r.data.tags for r in children(runs)}
    assert tags["0"]["optuna.reason"] == "non-finite loss (nan) at epoch 1"


@pytest.mark.slow
def test_keras_session_is_cleared_between_trials(tiny_splits, tmp_path):
    import keras

    study = optuna.create_study(storage=open_storage(str(tmp_path / "j.log")), direction="maximize")
    objective = make_objective(tiny_splits, None)
    study.optimize(objective, n_trials=1)
    before = keras.backend.get_uid("dense")
    study.optimize(objective, n_trials=1)
    # a cleared session restarts layer numbering: no graph state accumulates across trials
    assert keras.backend.get_uid("dense") == before


@pytest.mark.slow
def test_trials_are_seeded_with_the_objectives_seed_not_train_seed(tiny_splits, tmp_path):
    values = []
    for train_seed in (5, 99):
        study = optuna.create_study(
            storage=open_storage(str(tmp_path / f"j{train_seed}.log")),
            direction="maximize",
            sampler=optuna.samplers.TPESampler(seed=3),
        )
        train = TrainConfig(epochs=1, batch_size=32, seed=train_seed)
        study.optimize(make_objective(tiny_splits, None, train), n_trials=1)
        values.append(study.trials[0])
    first, second = values
    assert first.params == second.params and first.value == second.value
    # the trial is the one fit of the train stage, seeded with the objective's seed
    seeded = TrainConfig(epochs=1, batch_size=32, seed=1)
    model, train = rebuild(first.params, SPACE, ModelConfig(hidden_layers=[8]), seeded)
    fitted = fit(model, train, tiny_splits["train"], tiny_splits["val"])
    assert fitted.history["val_accuracy"][-1] == first.value


def test_a_study_searching_augmentation_trains_both_and_logs_the_choice(
    tiny_splits, runs, tmp_path
):
    objective = dataclasses.replace(
        make_objective(tiny_splits, runs),
        space=SearchSpace.model_validate({"augment": [False, True], "epochs": 1}),
    )
    study = optuna.create_study(
        storage=open_storage(str(tmp_path / "j.log")),
        direction="maximize",
        sampler=optuna.samplers.BruteForceSampler(seed=0),
    )
    study.optimize(objective, n_trials=2)
    assert sorted(trial.params["augment"] for trial in study.trials) == [False, True]
    assert all(trial.state == TrialState.COMPLETE for trial in study.trials)
    logged = sorted(child.data.params["train.augment.enabled"] for child in children(runs))
    assert logged == ["False", "True"]
