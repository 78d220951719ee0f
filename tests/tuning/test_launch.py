import os

import optuna
import pytest
from mlflow import MlflowClient
from optuna.trial import TrialState

from mnist_mlops.tuned import apply_best_params
from mnist_mlops.tuning.launch import launch
from mnist_mlops.tuning.storage import TuneError, open_storage


def child_runs(result):
    client = MlflowClient()
    parent = client.get_run(result.parent_run_id)
    return parent, client.search_runs(
        [parent.info.experiment_id], f"tags.mlflow.parentRunId = '{result.parent_run_id}'"
    )


def load(result):
    return optuna.load_study(study_name=result.study, storage=open_storage(result.storage))


def test_launch_tracks_every_trial_and_resumes_to_the_total(project, tiny_params):
    seen = []
    first = launch(
        tiny_params.tune,
        tiny_params.model,
        tiny_params.train,
        tiny_params.mlflow,
        on_progress=lambda done, total: seen.append((done, total)),
    )
    assert first.storage == str(project / "optuna.journal")
    assert first.counts["finished"] == 3 and seen[-1] == (3, 3)
    parent, children = child_runs(first)
    assert parent.info.status == "FINISHED"
    assert len(children) == 3
    assert {c.data.tags["optuna.trial_number"] for c in children} == {"0", "1", "2"}
    best = first.best
    assert parent.data.tags["best_trial.number"] == str(best["trial"])
    assert parent.data.metrics["best_val_accuracy"] == pytest.approx(best["value"])
    artifacts = {f.path for f in MlflowClient().list_artifacts(parent.info.run_id, "optuna_plots")}
    assert "optuna_plots/optimization_history.png" in artifacts
    assert "optuna_plots/intermediate_values.png" in artifacts
    model, train = apply_best_params(tiny_params.model, tiny_params.train, best)
    assert train.batch_size == 32 and model.activation in ("relu", "tanh")

    # resuming with a larger total runs only the missing trials, under a new parent run
    second = launch(
        tiny_params.tune, tiny_params.model, tiny_params.train, tiny_params.mlflow, n_trials=4
    )
    assert second.counts["finished"] == 4
    assert [t.number for t in load(second).trials] == [0, 1, 2, 3]
    _, more = child_runs(second)
    assert [c.data.tags["optuna.trial_number"] for c in more] == ["3"]
    # the target is reached: a third launch runs nothing
    third = launch(
        tiny_params.tune, tiny_params.model, tiny_params.train, tiny_params.mlflow, n_trials=4
    )
    assert third.counts["finished"] == 4 and child_runs(third)[1] == []


@pytest.mark.slow
def test_two_worker_processes_lose_and_duplicate_no_trial(project, tiny_params):
    result = launch(
        tiny_params.tune,
        tiny_params.model,
        tiny_params.train,
        tiny_params.mlflow,
        n_trials=5,
        workers=2,
    )
    trials = load(result).trials
    assert 5 <= result.counts["finished"] <= 6  # each worker checks the count before a trial
    assert [t.number for t in trials] == list(range(len(trials)))
    assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials)
    _, children = child_runs(result)
    numbers = sorted(int(c.data.tags["optuna.trial_number"]) for c in children)
    assert numbers == [t.number for t in trials]  # one child run per trial, none lost
    assert {t.user_attrs["mlflow_run_id"] for t in trials} == {c.info.run_id for c in children}
    workers = {c.data.tags["optuna.worker"].split(":")[1] for c in children}
    assert str(os.getpid()) not in workers  # the trials ran in the spawned worker processes


def test_parallel_sqlite_is_refused_with_the_alternatives(project, tiny_params):
    with pytest.raises(TuneError, match="database is locked.*journal.*PostgreSQL"):
        launch(
            tiny_params.tune,
            tiny_params.model,
            tiny_params.train,
            tiny_params.mlflow,
            workers=2,
            storage=f"sqlite:///{project / 'optuna.db'}",
        )
