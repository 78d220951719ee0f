import optuna
import pytest
from mlflow import MlflowClient

from mnist_mlops.config.params import parse_params
from mnist_mlops.errors import TuneError
from mnist_mlops.tuning.launch import launch
from mnist_mlops.tuning.outputs import FINGERPRINT_ATTR, IDENTITY_ATTR
from mnist_mlops.tuning.storage import open_storage
from tests.helpers.tuning import TINY_TUNE, tiny_params_dict, tiny_trial


def child_runs(result):
    client = MlflowClient()
    parent = client.get_run(result.parent_run_id)
    return parent, client.search_runs(
        [parent.info.experiment_id], f"tags.mlflow.parentRunId = '{result.parent_run_id}'"
    )


def load(result):
    return optuna.load_study(study_name=result.study, storage=open_storage(result.storage))


def launch_in(paths, params, on_progress=None, best_of_first_n=False, **tune_update):
    """Launch the study of ``params`` in the project ``paths``, ``tune`` fields overridden."""
    return launch(
        params.tune.model_copy(update=tune_update),
        params.model,
        params.train,
        params.mlflow,
        processed_dir=paths.processed_dir,
        root=paths.root,
        on_progress=on_progress,
        best_of_first_n=best_of_first_n,
    )


@pytest.mark.slow
def test_launch_tracks_every_trial_and_resumes_to_the_total(project, paths, tiny_params):
    seen = []
    first = launch_in(
        paths, tiny_params, n_trials=2, on_progress=lambda done, total: seen.append((done, total))
    )
    assert first.storage == str(paths.optuna_journal)
    assert first.counts["finished"] == 2 and seen[-1] == (2, 2)
    parent, children = child_runs(first)
    assert parent.info.status == "FINISHED"
    assert len(children) == 2
    assert {c.data.tags["optuna.trial_number"] for c in children} == {"0", "1"}
    best = first.best
    assert parent.data.tags["best_trial.number"] == str(best.trial)
    assert parent.data.metrics["best_val_accuracy"] == pytest.approx(best.value)
    artifacts = {f.path for f in MlflowClient().list_artifacts(parent.info.run_id, "optuna_plots")}
    assert "optuna_plots/optimization_history.png" in artifacts
    assert "optuna_plots/intermediate_values.png" in artifacts
    model, train = best.apply(tiny_params.model, tiny_params.train)
    assert train.batch_size == 32 and model.activation in ("relu", "tanh")

    # resuming with a larger total runs only the missing trials, under a new parent run
    second = launch_in(paths, tiny_params, n_trials=3)
    assert second.counts["finished"] == 3
    assert [t.number for t in load(second).trials] == [0, 1, 2]
    _, more = child_runs(second)
    assert [c.data.tags["optuna.trial_number"] for c in more] == ["2"]
    # the target is reached: a third launch runs nothing
    third = launch_in(paths, tiny_params, n_trials=3)
    assert third.counts["finished"] == 3 and child_runs(third)[1] == []


def test_parallel_sqlite_is_refused_with_the_alternatives(project, paths, tiny_params):
    with pytest.raises(TuneError, match="database is locked.*journal.*PostgreSQL"):
        launch_in(paths, tiny_params, workers=2, storage=f"sqlite:///{project / 'optuna.db'}")


def test_a_named_study_run_with_another_space_or_seed_is_refused(project, paths, tiny_params):
    launch_in(paths, tiny_params, study="mine", n_trials=0)
    study = optuna.load_study(study_name="mine", storage=open_storage(str(paths.optuna_journal)))
    assert len(study.user_attrs[FINGERPRINT_ATTR]) == 64
    assert study.user_attrs[IDENTITY_ATTR]["seed"] == 7

    other_seed = parse_params(tiny_params_dict(seed=8))
    with pytest.raises(TuneError, match=r"study 'mine' .* another tune\.seed \(") as error:
        launch_in(paths, other_seed, study="mine", n_trials=0)
    assert "optuna delete-study --study-name mine --storage" in str(error.value)
    assert "--study NAME" in str(error.value)
    other_space = parse_params(tiny_params_dict(space=TINY_TUNE["space"] | {"epochs": 1}))
    with pytest.raises(TuneError, match=r"another tune\.space \("):
        launch_in(paths, other_space, study="mine", n_trials=0)
    # refused before anything ran: no parent run, no trial; the same params still resume
    parent = child_runs(launch_in(paths, tiny_params, study="mine", n_trials=0))[0]
    assert len(MlflowClient().search_runs([parent.info.experiment_id])) == 2
    assert launch_in(paths, other_seed, study="mine-seed-8", n_trials=0).counts["finished"] == 0


def test_a_study_without_fingerprint_is_adopted_with_a_warning(project, paths, tiny_params, caplog):
    storage = open_storage(str(paths.optuna_journal))
    old = optuna.create_study(study_name="old", storage=storage, direction="maximize")
    old.add_trial(tiny_trial(0.5))
    result = launch_in(paths, tiny_params, study="old", n_trials=1)
    assert "study old holds 1 trials but no fingerprint" in caplog.text
    assert result.counts["finished"] == 1 and result.best.trial == 0
    with pytest.raises(TuneError, match="another tune.seed"):
        launch_in(paths, parse_params(tiny_params_dict(seed=8)), study="old", n_trials=1)


@pytest.mark.slow
def test_interactive_launches_report_the_best_of_the_whole_study(project, paths, tiny_params):
    launch_in(paths, tiny_params, study="whole", n_trials=0)  # the study, with its identity
    study = optuna.load_study(study_name="whole", storage=open_storage(str(paths.optuna_journal)))
    study.add_trial(tiny_trial(0.5))  # (finished trials: no need to train them)
    study.add_trial(tiny_trial(2.0))
    interactive = launch_in(paths, tiny_params, study="whole", n_trials=1)
    assert interactive.best.trial == 1 and interactive.metrics().considered_trials == 2
    stage = launch_in(paths, tiny_params, study="whole", n_trials=1, best_of_first_n=True)
    assert stage.best.trial == 0
    assert stage.metrics().considered_trials == 1
    assert stage.metrics().study_finished_trials == 2
