"""A worker killed with SIGKILL mid-trial: the study recovers and reaches its total."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
import yaml
from mlflow import MlflowClient
from optuna.trial import TrialState

from mnist_mlops.config.paths import ProjectPaths
from mnist_mlops.tuning.storage import open_storage
from tests.helpers.tuning import tiny_params_dict

CLI = str(Path(sys.executable).with_name("mnist-mlops"))


def wait_for_running_trial(journal: Path, process: subprocess.Popen, timeout: float = 180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the worker ended before a trial started"
        if journal.exists():
            study = optuna.load_study(study_name="tiny", storage=open_storage(str(journal)))
            running = study.get_trials(states=(TrialState.RUNNING,))
            if running and "mlflow_run_id" in running[0].user_attrs:  # fitting now
                return running[0]
        time.sleep(0.2)
    raise AssertionError("no trial started in time")


@pytest.mark.slow
def test_resume_after_kill_9_reaches_the_total(project):
    paths = ProjectPaths(project)
    params = tiny_params_dict(n_trials=3)
    params["tune"]["space"]["epochs"] = 30  # long trials: the kill lands mid-trial
    paths.params_file.write_text(yaml.safe_dump(params))
    journal = paths.optuna_journal
    command = [CLI, "tune", "--study", "tiny", "--no-progress"]
    worker = subprocess.Popen(
        command, cwd=project, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        killed = wait_for_running_trial(journal, worker)
        os.kill(worker.pid, signal.SIGKILL)
    finally:
        worker.wait(timeout=30)
    assert worker.returncode == -signal.SIGKILL

    # same params.yaml: a changed space would be refused (the study records its fingerprint)
    resumed = subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]

    study = optuna.load_study(study_name="tiny", storage=open_storage(str(journal)))
    trials = study.trials
    assert not [t for t in trials if t.state == TrialState.RUNNING]
    assert sum(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials) == 3
    assert trials[killed.number].state == TrialState.FAIL
    [retry] = [t for t in trials if t.system_attrs.get("failed_trial") == killed.number]
    assert retry.params == trials[killed.number].params and retry.state != TrialState.FAIL
    # the killed trial's MLflow child run is closed as FAILED, not left RUNNING
    client = MlflowClient(os.environ["MLFLOW_TRACKING_URI"])  # the store the CLI used
    run = client.get_run(trials[killed.number].user_attrs["mlflow_run_id"])
    assert run.info.status == "FAILED" and run.data.tags["optuna.trial_state"] == "FAIL"


@pytest.mark.slow
def test_the_other_worker_retries_the_trial_of_a_killed_worker(project):
    paths = ProjectPaths(project)
    params = tiny_params_dict(n_trials=4)
    params["tune"]["space"]["epochs"] = {"low": 20, "high": 30}  # long trials
    paths.params_file.write_text(yaml.safe_dump(params))
    launcher = subprocess.Popen(
        [CLI, "tune", "--study", "tiny", "--workers", "2", "--no-progress"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    killed = wait_for_running_trial(paths.optuna_journal, launcher)
    worker_pid = killed.system_attrs["heartbeat"]["pid"]
    assert worker_pid != launcher.pid  # a spawned worker process, not the launcher
    os.kill(worker_pid, signal.SIGKILL)
    output, _ = launcher.communicate(timeout=400)
    assert launcher.returncode == 0, output[-3000:]  # the surviving worker reached the total

    study = optuna.load_study(study_name="tiny", storage=open_storage(str(paths.optuna_journal)))
    trials = study.trials
    assert trials[killed.number].state == TrialState.FAIL
    assert sum(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials) >= 4
    assert not [t for t in trials if t.state == TrialState.RUNNING]
    [retry] = [t for t in trials if t.system_attrs.get("failed_trial") == killed.number]
    assert retry.params == trials[killed.number].params
    assert retry.system_attrs["heartbeat"]["pid"] != worker_pid
