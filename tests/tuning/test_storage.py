import json
import os
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from mnist_mlops.config.paths import ProjectPaths
from mnist_mlops.errors import TuneError
from mnist_mlops.tuning.journal import HEARTBEAT_ATTR, HOSTNAME
from mnist_mlops.tuning.storage import STORAGE_ENV, is_database, open_storage, resolve_storage
from mnist_mlops.tuning.study import open_study
from mnist_mlops.tuning.worker import fail_stale

pytestmark = pytest.mark.filterwarnings("ignore:Heartbeat of storage:UserWarning")


def test_storage_resolution_order(tmp_path, monkeypatch):
    paths = ProjectPaths(tmp_path)
    assert resolve_storage(None, tmp_path) == str(paths.optuna_journal)
    assert resolve_storage("journal:studies/x.log", tmp_path).endswith("studies/x.log")
    # a relative journal path is relative to the project, not to the current directory
    assert resolve_storage("studies/x.log", tmp_path) == str(paths.root / "studies" / "x.log")
    assert resolve_storage("postgresql://u@h/db", tmp_path) == "postgresql://u@h/db"
    monkeypatch.setenv(STORAGE_ENV, "mysql://u@h/db")
    assert resolve_storage("postgresql://u@h/db", tmp_path) == "mysql://u@h/db"
    assert is_database("sqlite:///x.db") and not is_database(str(tmp_path / "j.log"))


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def running_trial(study: optuna.Study, beat: dict) -> optuna.Trial:
    trial = study.ask()
    trial.suggest_int("units", 1, 100)
    trial.set_user_attr("mlflow_run_id", "abc")
    study._storage.set_trial_system_attr(trial._trial_id, HEARTBEAT_ATTR, beat)
    return trial


def test_trial_of_a_dead_local_worker_is_failed_and_retried(tmp_path):
    closed = []
    storage = open_storage(str(tmp_path / "j.log"), on_stale=closed.append)
    study = open_study("s", storage)
    alive = running_trial(study, {"host": HOSTNAME, "pid": dead_pid(), "time": time.time()})
    fail_stale(study)
    trials = study.get_trials()
    assert [t.state for t in trials] == [TrialState.FAIL, TrialState.WAITING]
    retry = trials[1]
    assert retry.params == alive.params
    assert retry.system_attrs["failed_trial"] == 0
    assert HEARTBEAT_ATTR not in retry.system_attrs and "mlflow_run_id" not in retry.user_attrs
    assert [t.number for t in closed] == [0]
    # the retry is what the next ask() runs: same parameters, no duplicate trial
    again = study.ask()
    assert again.number == 1 and again.params == alive.params


def test_live_trials_are_kept_and_silent_remote_ones_time_out(tmp_path):
    storage = open_storage(str(tmp_path / "j.log"), heartbeat_interval=1, grace_period=2)
    study = open_study("s", storage)
    running_trial(study, {"host": HOSTNAME, "pid": os.getpid(), "time": time.time()})
    running_trial(study, {"host": "elsewhere", "pid": 1, "time": time.time()})
    running_trial(study, {"host": "elsewhere", "pid": 1, "time": time.time() - 60})
    fail_stale(study)
    states = [t.state for t in study.get_trials()]
    assert states == [TrialState.RUNNING, TrialState.RUNNING, TrialState.FAIL, TrialState.WAITING]


def test_heartbeats_are_recorded_by_optimize(tmp_path):
    storage = open_storage(str(tmp_path / "j.log"), heartbeat_interval=1)
    study = open_study("s", storage)
    study.optimize(lambda trial: time.sleep(1.5) or 1.0, n_trials=1)
    beat = study.trials[0].system_attrs[HEARTBEAT_ATTR]
    assert beat["host"] == HOSTNAME and beat["time"] > time.time() - 30


def test_unreachable_database_is_a_clear_error():
    with pytest.raises(TuneError, match=r"storage postgresql://user:\*\*\*@127.0.0.1:1/db"):
        open_storage("postgresql://user:secret@127.0.0.1:1/db")


def test_study_is_readable_by_the_optuna_command_line(tmp_path):
    path = tmp_path / "j.log"
    study = open_study("readable", open_storage(str(path)))
    for value in (0.5, 0.7):
        trial = study.ask()
        trial.suggest_float("lr", 0.001, 0.1, log=True)
        study.tell(trial, value)
    pruned = study.ask()
    study.tell(pruned, state=TrialState.PRUNED)
    optuna_cli = Path(sys.executable).with_name("optuna")
    output = subprocess.run(
        [
            str(optuna_cli),
            "trials",
            "--study-name",
            "readable",
            "--storage",
            str(path),
            "--storage-class",
            "JournalFileBackend",
            "-f",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    rows = json.loads(output)
    assert [(row["number"], row["state"]) for row in rows] == [
        (0, "COMPLETE"),
        (1, "COMPLETE"),
        (2, "PRUNED"),
    ]


ASK_AND_DIE = """
import os, sys
from mnist_mlops.tuning.storage import open_storage
from mnist_mlops.tuning.study import open_study
trial = open_study("s", open_storage(sys.argv[1])).ask()
print(trial.number, flush=True)
os._exit(0)  # died before its first heartbeat: no cleanup, nothing told
"""


def test_a_trial_whose_process_died_before_its_first_heartbeat_is_failed_after_the_grace(
    tmp_path,
):
    journal = str(tmp_path / "j.log")
    subprocess.run([sys.executable, "-c", ASK_AND_DIE, journal], check=True, timeout=120)
    study = open_study("s", open_storage(journal, heartbeat_interval=1, grace_period=2))
    [orphan] = study.get_trials()
    assert orphan.state == TrialState.RUNNING and HEARTBEAT_ATTR not in orphan.system_attrs
    fail_stale(study)  # within the grace period: it may still be starting
    assert [t.state for t in study.get_trials()] == [TrialState.RUNNING]
    time.sleep(2.5)
    fail_stale(study)
    trials = study.get_trials()
    assert [t.state for t in trials] == [TrialState.FAIL, TrialState.WAITING]
    assert trials[1].system_attrs["failed_trial"] == 0
