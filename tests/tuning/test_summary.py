"""Which trials compete for the best one: all of the study, or its first n finished trials."""

import optuna
import pytest
from optuna.trial import TrialState

from mnist_mlops.config.paths import ProjectPaths
from mnist_mlops.tuning.storage import open_storage
from mnist_mlops.tuning.study import open_study
from mnist_mlops.tuning.summary import best_params_document, best_trial, considered_trials
from tests.helpers.tuning import tiny_trial


def add(study: optuna.Study, state: TrialState, value: float | None, activation: str) -> None:
    study.add_trial(tiny_trial(value, state, activation=activation))


@pytest.fixture
def study(tmp_path) -> optuna.Study:
    """Trials 0-5 in a journal file: COMPLETE .5, FAIL, PRUNED, COMPLETE .6, .9, .9."""
    study = open_study("first-n", open_storage(str(ProjectPaths(tmp_path).optuna_journal)))
    add(study, TrialState.COMPLETE, 0.5, "relu")
    add(study, TrialState.FAIL, None, "tanh")
    add(study, TrialState.PRUNED, None, "tanh")
    add(study, TrialState.COMPLETE, 0.6, "tanh")
    add(study, TrialState.COMPLETE, 0.9, "relu")
    add(study, TrialState.COMPLETE, 0.9, "tanh")
    return study


def test_first_n_counts_finished_trials_by_number_and_skips_failed_ones(study):
    assert [t.number for t in considered_trials(study)] == [0, 2, 3, 4, 5]
    assert [t.number for t in considered_trials(study, 3)] == [0, 2, 3]  # pruned counts
    assert considered_trials(study, 0) == []
    assert [t.number for t in considered_trials(study, 50)] == [0, 2, 3, 4, 5]


def test_best_is_chosen_among_the_first_n_only(study):
    assert best_trial(study).number == 4  # the whole study (study show): ties -> lowest number
    assert best_trial(study, 3).number == 3  # not 4 or 5, which come later
    assert best_trial(study, 1).number == 0
    assert best_trial(study, 0) is None


def test_only_complete_trials_can_be_best(tmp_path):
    study = open_study("pruned-only", open_storage(str(ProjectPaths(tmp_path).optuna_journal)))
    add(study, TrialState.PRUNED, None, "relu")
    add(study, TrialState.COMPLETE, 0.7, "tanh")
    assert best_trial(study, 1) is None and best_trial(study, 2).number == 1


def test_best_params_document_of_the_first_n(study, tiny_params):
    tune, model, train = tiny_params.tune, tiny_params.model, tiny_params.train
    document = best_params_document(study, tune.space, model, train, first_n=3)
    assert (document.trial, document.value) == (3, 0.6)
    assert document.model.activation == "tanh"
    assert best_params_document(study, tune.space, model, train).trial == 4
