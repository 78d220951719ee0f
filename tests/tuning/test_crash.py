"""A worker killed with SIGKILL mid-trial: the study recovers and reaches its total.

The kill must land while a trial is fitting (RUNNING, its MLflow run open). Rather than make
every trial long, the test freezes the worker (SIGSTOP) as soon as the journal shows such a
trial, looks again while nothing can change, and kills it only if the same trial is still
running; otherwise it lets the worker go on (SIGCONT) and waits for the next trial.
"""

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import optuna
import pytest
import yaml
from mlflow import MlflowClient
from optuna.trial import FrozenTrial, TrialState

from mnist_mlops.config.paths import ProjectPaths
from mnist_mlops.tracking.owner import CLOSED_TAG
from mnist_mlops.tuning.journal import HEARTBEAT_ATTR
from mnist_mlops.tuning.storage import open_storage
from mnist_mlops.tuning.trial_runs import RUN_ID_ATTR
from tests.helpers import mlflow_store
from tests.helpers.tuning import tiny_params_dict
from tests.helpers.workspace import REPO_ROOT

CLI = str(Path(sys.executable).with_name("mnist-mlops"))


def fitting_trials(journal: Path) -> list[FrozenTrial]:
    """The study's RUNNING trials whose MLflow run is open and whose worker sent a heartbeat."""
    if not journal.exists():
        return []
    try:
        study = optuna.load_study(study_name="tiny", storage=open_storage(str(journal)))
    except KeyError:  # the journal is there, the study not yet
        return []
    return [
        trial
        for trial in study.get_trials(states=(TrialState.RUNNING,))
        if RUN_ID_ATTR in trial.user_attrs and HEARTBEAT_ATTR in trial.system_attrs
    ]


def kill_mid_trial(journal: Path, launcher: subprocess.Popen, timeout: float = 180):
    """SIGKILL the worker of a trial while it fits; return the trial and the worker's pid."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert launcher.poll() is None, "the launcher ended before a trial could be killed"
        for trial in fitting_trials(journal)[:1]:
            pid = trial.system_attrs[HEARTBEAT_ATTR]["pid"]
            os.kill(pid, signal.SIGSTOP)  # frozen: the journal cannot change under us
            if any(t.number == trial.number for t in fitting_trials(journal)):
                os.kill(pid, signal.SIGKILL)
                return trial, pid
            os.kill(pid, signal.SIGCONT)  # that trial ended meanwhile: wait for another
        time.sleep(0.05)
    raise AssertionError("no trial was seen fitting in time")


def start(command: list[str], cwd: Path, stdout) -> subprocess.Popen:
    """Start the CLI in a process group of its own (its spawned workers included)."""
    return subprocess.Popen(
        command,
        cwd=cwd,
        stdout=stdout,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


@contextmanager
def stopped_on_failure(process: subprocess.Popen) -> Iterator[None]:
    """Kill the process group if the block fails (no frozen or orphaned worker is left)."""
    try:
        yield
    except BaseException:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        raise


@pytest.fixture
def store(project) -> str:
    """The MLflow store the CLI uses (the test's), created beforehand."""
    uri = os.environ["MLFLOW_TRACKING_URI"]
    mlflow_store.seed(Path(uri.removeprefix("sqlite:///")))
    return uri


@pytest.mark.slow
def test_resume_after_kill_9_reaches_the_total(project, store):
    paths = ProjectPaths(project)
    params = tiny_params_dict(n_trials=3)
    params["tune"]["space"]["epochs"] = 5
    paths.params_file.write_text(yaml.safe_dump(params))
    journal = paths.optuna_journal
    command = [CLI, "tune", "--study", "tiny", "--no-progress"]
    worker = start(command, project, subprocess.DEVNULL)
    with stopped_on_failure(worker):
        killed, pid = kill_mid_trial(journal, worker)
        worker.wait(timeout=30)
    assert pid == worker.pid  # one worker: the trials run in the launching process
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
    # the killed trial's MLflow child run is closed KILLED by the sweep of dead runs (not left
    # RUNNING), and the stale trial's FAIL does not rewrite that status
    run = MlflowClient(store).get_run(trials[killed.number].user_attrs[RUN_ID_ATTR])
    assert run.info.status == "KILLED" and run.data.tags["optuna.trial_state"] == "FAIL"
    assert f"process {pid} is gone" in run.data.tags[CLOSED_TAG]


@pytest.mark.slow
def test_the_other_worker_retries_the_trial_of_a_killed_worker(project, store):
    paths = ProjectPaths(project)
    params = tiny_params_dict(n_trials=4)
    params["tune"]["space"]["epochs"] = {"low": 3, "high": 6}
    paths.params_file.write_text(yaml.safe_dump(params))
    command = [CLI, "tune", "--study", "tiny", "--workers", "2", "--no-progress"]
    launcher = start(command, project, subprocess.PIPE)
    with stopped_on_failure(launcher):
        killed, worker_pid = kill_mid_trial(paths.optuna_journal, launcher)
        assert worker_pid != launcher.pid  # a spawned worker process, not the launcher
        output, _ = launcher.communicate(timeout=400)
    assert launcher.returncode == 0, output[-3000:]  # the surviving worker reached the total

    study = optuna.load_study(study_name="tiny", storage=open_storage(str(paths.optuna_journal)))
    trials = study.trials
    assert trials[killed.number].state == TrialState.FAIL
    assert sum(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials) >= 4
    assert not [t for t in trials if t.state == TrialState.RUNNING]
    [retry] = [t for t in trials if t.system_attrs.get("failed_trial") == killed.number]
    assert retry.params == trials[killed.number].params
    assert retry.system_attrs[HEARTBEAT_ATTR]["pid"] != worker_pid
    # two processes wrote the journal: no trial lost or duplicated, one child run per trial
    assert sum(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials) <= 5
    assert [t.number for t in trials] == list(range(len(trials)))
    parent_id = re.search(r"MLflow parent run: (\w+)", output).group(1)
    client = MlflowClient(store)
    experiment_id = client.get_run(parent_id).info.experiment_id
    children = client.search_runs([experiment_id], f"tags.mlflow.parentRunId = '{parent_id}'")
    numbers = sorted(int(c.data.tags["optuna.trial_number"]) for c in children)
    assert numbers == [t.number for t in trials]
    assert {t.user_attrs[RUN_ID_ATTR] for t in trials} == {c.info.run_id for c in children}
    workers = {c.data.tags["optuna.worker"].split(":")[1] for c in children}
    assert str(launcher.pid) not in workers  # the trials ran in the spawned worker processes


ASK_AND_DIE = """
import os, sys
from mnist_mlops.tuning.storage import open_storage
from mnist_mlops.tuning.study import open_study
from tests.helpers.tuning import tiny_trial
study = open_study("tiny", open_storage(sys.argv[1]))
study.add_trial(tiny_trial(0.5))  # one finished trial, as after an earlier launch
study.ask()
os._exit(0)  # killed between ask() and its first heartbeat
"""


@pytest.mark.slow
def test_a_trial_killed_before_its_first_heartbeat_does_not_hang_the_resume(project, store):
    paths = ProjectPaths(project)
    journal = paths.optuna_journal
    subprocess.run(
        [sys.executable, "-c", ASK_AND_DIE, str(journal)], cwd=REPO_ROOT, check=True, timeout=120
    )
    command = [CLI, "tune", "--study", "tiny", "--n-trials", "2", "--workers", "2", "--no-progress"]
    launcher = start(command, project, subprocess.PIPE)
    with stopped_on_failure(launcher):
        # the orphan is failed once the grace period (30 s) has passed, then retried
        output, _ = launcher.communicate(timeout=400)
    assert launcher.returncode == 0, output[-3000:]
    trials = optuna.load_study(study_name="tiny", storage=open_storage(str(journal))).trials
    assert [t.state for t in trials[:2]] == [TrialState.COMPLETE, TrialState.FAIL]
    assert sum(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials) == 2
    assert not [t for t in trials if t.state == TrialState.RUNNING]
    shown = [(t.number, t.state.name, t.system_attrs) for t in trials]
    assert [t.system_attrs.get("failed_trial") for t in trials[2:]] == [1], shown
