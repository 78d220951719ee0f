"""A stale trial's child run: closed FAILED when still RUNNING, a terminal status kept."""

import subprocess
import sys
import time
from functools import partial

import mlflow
import pytest
from mlflow import MlflowClient
from optuna.trial import TrialState

from mnist_mlops.tracking.owner import CLOSED_TAG, KILLED
from mnist_mlops.tuning.journal import HEARTBEAT_ATTR, HOSTNAME
from mnist_mlops.tuning.storage import open_storage
from mnist_mlops.tuning.study import open_study
from mnist_mlops.tuning.trial_runs import RUN_ID_ATTR, STATE_TAG, close_stale_run
from mnist_mlops.tuning.worker import fail_stale
from tests.helpers.models import use_test_store

pytestmark = pytest.mark.filterwarnings("ignore:Heartbeat of storage:UserWarning")


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_the_stale_sweep_never_rewrites_a_terminal_status(tmp_path):
    experiment_id = use_test_store()
    client = MlflowClient()
    killed = client.create_run(experiment_id).info.run_id
    client.set_tag(killed, CLOSED_TAG, "mnist-mlops tune stopped: SIGTERM")
    client.set_terminated(killed, KILLED)  # what a stopped launch does to its trials' runs
    running = client.create_run(experiment_id).info.run_id
    on_stale = partial(close_stale_run, mlflow.get_tracking_uri())
    study = open_study("s", open_storage(str(tmp_path / "j.log"), on_stale=on_stale))
    beat = {"host": HOSTNAME, "pid": dead_pid(), "time": time.time()}
    for run_id in (killed, running):  # two trials whose workers died, each with its run
        trial = study.ask()
        trial.set_user_attr(RUN_ID_ATTR, run_id)
        study._storage.set_trial_system_attr(trial._trial_id, HEARTBEAT_ATTR, beat)

    fail_stale(study)  # the next start's sweep

    assert [t.state for t in study.get_trials()[:2]] == [TrialState.FAIL, TrialState.FAIL]
    stopped = client.get_run(killed)
    assert stopped.info.status == KILLED
    assert stopped.data.tags[CLOSED_TAG] == "mnist-mlops tune stopped: SIGTERM"
    assert stopped.data.tags[STATE_TAG] == "FAIL"
    assert client.get_run(running).info.status == "FAILED"
