"""Run ownership: owner tags, KILLED on a stop, the sweep of runs whose process is gone."""

import socket
import subprocess
import sys

import mlflow
import pytest
from mlflow import MlflowClient

from mnist_mlops.tracking import owner
from mnist_mlops.tracking.owner import (
    CLOSED_TAG,
    HOST_TAG,
    PID_TAG,
    SESSION_ENV,
    SESSION_TAG,
    STARTED_TAG,
    close_session_runs,
    owned_run,
    owner_tags,
    process_started,
    sweep_ghost_runs,
)
from tests.helpers.models import use_test_store


def dead_process() -> tuple[int, str]:
    """Return the pid and start time of a process that ran and is gone."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    started = process_started(child.pid)
    child.kill()
    child.wait()
    assert started is not None and process_started(child.pid) is None
    return child.pid, started


def status(run_id: str) -> str:
    return MlflowClient().get_run(run_id).info.status


def running_run(experiment_id: str, tags: dict[str, str]) -> str:
    return MlflowClient().create_run(experiment_id, tags=tags).info.run_id


def test_sweep_kills_only_this_hosts_runs_whose_process_is_gone():
    experiment_id = use_test_store()
    pid, started = dead_process()
    host = socket.gethostname()
    dead = {HOST_TAG: host, PID_TAG: str(pid), STARTED_TAG: started}
    ghost = running_run(experiment_id, dead)
    reused_pid = running_run(experiment_id, owner_tags() | {STARTED_TAG: "1"})  # pid reused
    alive = running_run(experiment_id, owner_tags())
    other_host = running_run(experiment_id, dead | {HOST_TAG: f"not-{host}"})
    untagged = running_run(experiment_id, {})

    assert sorted(sweep_ghost_runs(experiment_id)) == sorted([ghost, reused_pid])

    assert status(ghost) == status(reused_pid) == "KILLED"
    assert f"process {pid} is gone" in MlflowClient().get_run(ghost).data.tags[CLOSED_TAG]
    assert status(alive) == status(other_host) == status(untagged) == "RUNNING"
    assert sweep_ghost_runs(experiment_id) == []


def test_owned_run_is_killed_by_a_stop_and_failed_by_an_error():
    use_test_store()
    with pytest.raises(KeyboardInterrupt), owned_run("stopped", {"stage": "t"}) as stopped:
        raise KeyboardInterrupt
    with pytest.raises(ValueError), owned_run("broken", {}) as broken:
        raise ValueError("bug")
    with owned_run("fine", {}) as fine:
        pass
    assert status(stopped.info.run_id) == "KILLED"
    assert status(broken.info.run_id) == "FAILED"
    assert status(fine.info.run_id) == "FINISHED"
    tags = MlflowClient().get_run(fine.info.run_id).data.tags
    assert tags[PID_TAG] == str(owner.os.getpid()) and tags[HOST_TAG] == socket.gethostname()
    assert mlflow.active_run() is None


def test_close_session_runs_closes_only_this_sessions_running_runs(monkeypatch):
    experiment_id = use_test_store()
    monkeypatch.setenv(SESSION_ENV, "host:1:mine")
    mine = running_run(experiment_id, owner_tags())  # e.g. a tune worker's trial run
    finished = running_run(experiment_id, owner_tags())
    MlflowClient().set_terminated(finished, "FINISHED")
    other = running_run(experiment_id, owner_tags() | {SESSION_TAG: "host:2:theirs"})

    assert close_session_runs("stopped by SIGTERM") == [mine]
    assert status(mine) == "KILLED" and status(finished) == "FINISHED"
    assert status(other) == "RUNNING"
    assert MlflowClient().get_run(mine).data.tags[CLOSED_TAG] == "stopped by SIGTERM"


def test_closing_a_run_that_ended_meanwhile_keeps_its_status_and_reason():
    """The sweep's last step re-reads the run: a run another process ended stays as it is."""
    experiment_id = use_test_store()
    client = MlflowClient()
    run_id = running_run(experiment_id, {})
    assert owner._close(client, run_id, "mnist-mlops tune stopped: SIGTERM")
    assert not owner._close(client, run_id, "ghost sweep: process 1 is gone")
    run = client.get_run(run_id)
    assert run.info.status == "KILLED"
    assert run.data.tags[CLOSED_TAG] == "mnist-mlops tune stopped: SIGTERM"
