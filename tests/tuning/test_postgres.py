"""The study on a real PostgreSQL server (several machines would share it the same way)."""

import json
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from mnist_mlops.tuning.budget import BudgetLock
from mnist_mlops.tuning.launch import launch
from mnist_mlops.tuning.storage import open_storage
from mnist_mlops.tuning.study import open_study
from mnist_mlops.tuning.worker import fail_stale
from tests.helpers.locks import at_once, blocks_until_released
from tests.helpers.postgres import create_database, postgres_server

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.filterwarnings("ignore:Heartbeat of storage:UserWarning"),
]


@pytest.fixture(scope="module")
def postgres_url():
    with postgres_server() as url:
        yield url


def test_silent_trial_is_failed_and_retried_on_postgres(postgres_url):
    storage = open_storage(postgres_url, heartbeat_interval=1, grace_period=1)
    study = open_study("stale-pg", storage)
    trial = study.ask()
    trial.suggest_float("lr", 0.001, 0.1)
    storage.record_heartbeat(trial._trial_id)  # then the "worker" dies: no more heartbeats
    time.sleep(2.5)
    fail_stale(study)
    states = [(t.state, t.params) for t in study.get_trials()]
    assert states == [(TrialState.FAIL, trial.params), (TrialState.WAITING, trial.params)]


def test_workers_meeting_an_empty_database_all_open_it(postgres_url):
    """Each worker creates Optuna's tables if missing: at once, the losers open it again."""
    database = create_database(postgres_url, "empty")
    opened = at_once(lambda: open_study("s", open_storage(database)), 4)
    assert len(opened) == 4 and all(isinstance(study, optuna.Study) for study in opened), opened


def test_the_budget_lock_is_one_advisory_lock_per_study(postgres_url):
    blocks_until_released(BudgetLock(postgres_url, "a"), BudgetLock(postgres_url, "a"))
    with BudgetLock(postgres_url, "a"), BudgetLock(postgres_url, "b"):
        pass  # another study's lock is another key: no wait


@pytest.mark.slow
def test_two_workers_share_a_study_on_postgres(postgres_url, project, paths, tiny_params):
    tune = tiny_params.tune.model_copy(
        update={"study": "pg", "n_trials": 3, "workers": 2, "storage": postgres_url}
    )
    result = launch(
        tune,
        tiny_params.model,
        tiny_params.train,
        tiny_params.mlflow,
        processed_dir=paths.processed_dir,
        root=paths.root,
    )
    # exactly the budget: the workers count and start trials under the study's lock
    assert result.counts["finished"] == 3 and result.counts["running"] == 0
    study = optuna.load_study(study_name="pg", storage=postgres_url)
    assert [t.number for t in study.trials] == list(range(len(study.trials)))
    # the standard optuna CLI reads the same study
    optuna_cli = Path(sys.executable).with_name("optuna")
    rows = json.loads(
        subprocess.run(
            [
                str(optuna_cli),
                "trials",
                "--study-name",
                "pg",
                "--storage",
                postgres_url,
                "-f",
                "json",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout
    )
    assert len(rows) == len(study.trials)
