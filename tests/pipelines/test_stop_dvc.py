"""Stopping a real `dvc repro`: the stage ends within 10 s, nothing is left, runs are KILLED."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from mlflow import MlflowClient

from mnist_mlops.config.paths import ProjectPaths
from mnist_mlops.processes import process_started
from tests.helpers.workspace import REPO_ROOT, environment

pytestmark = pytest.mark.slow
STOP_S = 10  # the promise: a stopped stage is gone within 10 s
VENV = Path(sys.executable).parent.parent
# `make repro` over this checkout's .venv (never reinstalled: -o keeps its stamp as it is)
MAKE_REPRO = ("make", "--no-print-directory", "-f", str(REPO_ROOT / "Makefile"), f"VENV={VENV}")
MAKE_REPRO += ("-o", str(VENV / ".synced"), "repro")


def snapshot(path: Path) -> dict:
    if path.is_file():
        return {path.name: path.read_bytes()}
    return {p.relative_to(path): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def descendants(pid: int) -> dict[int, str]:
    """Return the live descendants of ``pid``: pid -> start time (to tell a reused pid)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat[1])
    found, frontier = {}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, its_parent in parents.items():
            if its_parent == parent and child not in found:
                started = process_started(child)
                if started is not None:
                    found[child] = started
                    frontier.append(child)
    return found


def alive(processes: dict[int, str]) -> list[int]:
    return [pid for pid, started in processes.items() if process_started(pid) == started]


def start(
    root: Path, command, prefect_api: str, params_update: dict, **env: str
) -> subprocess.Popen:
    paths = ProjectPaths(root)
    params = yaml.safe_load(paths.params_file.read_text())
    for section, values in params_update.items():
        params[section] = params[section] | values
    paths.params_file.write_text(yaml.safe_dump(params, sort_keys=False))
    log = (root.parent / "stop.log").open("w")
    return subprocess.Popen(
        command,
        cwd=root,
        env=environment(root, PREFECT_API_URL=prefect_api, **env),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_for_runs(client: MlflowClient, condition: str, count: int, process) -> list:
    deadline = time.monotonic() + 300
    while True:
        experiments = [e.experiment_id for e in client.search_experiments()]
        runs = client.search_runs(
            experiments, filter_string=f"attributes.status = 'RUNNING' and {condition}"
        )
        if len(runs) >= count:
            return runs
        assert process.poll() is None, "the command ended before its runs started"
        assert time.monotonic() < deadline
        time.sleep(0.5)


def described(pids: list[int], log: Path) -> str:
    """The command lines of ``pids`` and the end of the command's output, for a failure."""
    lines = []
    for pid in pids:
        try:
            command = (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            command = b"?"
        lines.append(f"{pid}: {command.decode(errors='replace')[:200]}")
    return "\n".join([*lines, "output:", *log.read_text().splitlines()[-30:]])


def stop_and_check(process, signalled: int, processes: dict[int, str], log: Path) -> None:
    """Send SIGTERM to ``signalled`` only; all ``processes`` must be gone within STOP_S."""
    os.kill(signalled, signal.SIGTERM)
    deadline = time.monotonic() + STOP_S
    while alive(processes) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = alive(processes)
    try:
        assert left == [], f"still running {STOP_S} s after SIGTERM:\n{described(left, log)}"
    finally:
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        with_group = process.poll() is None
        if with_group:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def test_sigterm_to_make_repros_process_stops_the_training_cleanly(project_clone, prefect_api):
    paths = ProjectPaths(project_clone)
    lock = (project_clone / "dvc.lock").read_bytes()
    before = snapshot(paths.trained_dir)
    client = MlflowClient(environment(project_clone)["MLFLOW_TRACKING_URI"])
    # `make repro` of one long training (make passes SIGTERM on to dvc, the stage sees dvc go)
    process = start(
        project_clone,
        (*MAKE_REPRO, "REPRO_ARGS=--single-item train"),
        prefect_api,
        {"train": {"epochs": 500, "use_tuned": False}},
    )
    (run,) = wait_for_runs(client, "tags.stage = 'train'", 1, process)
    processes = descendants(process.pid) | {process.pid: process_started(process.pid)}
    assert len(processes) >= 3  # make, dvc, the stage

    stop_and_check(process, process.pid, processes, project_clone.parent / "stop.log")

    assert process.returncode in (-signal.SIGTERM, 2)  # make re-raises it (or reports it)
    assert client.get_run(run.info.run_id).info.status == "KILLED"
    assert snapshot(paths.trained_dir) == before
    assert (project_clone / "dvc.lock").read_bytes() == lock


def test_sigterm_to_dvc_alone_stops_the_tune_stage_and_its_workers(project_clone, prefect_api):
    paths = ProjectPaths(project_clone)
    lock = (project_clone / "dvc.lock").read_bytes()
    outputs = [paths.best_params, paths.tune_metrics]
    before = [snapshot(path) for path in outputs]
    client = MlflowClient(environment(project_clone)["MLFLOW_TRACKING_URI"])
    process = start(
        project_clone,
        ("dvc", "repro", "--single-item", "tune"),
        prefect_api,
        {"tune": {"n_trials": 40, "workers": 2}},
        SHELL="/bin/sh",  # DVC runs the stage with $SHELL -c: dash stays between dvc and it
    )
    # both workers run a trial (their own processes, their own MLflow runs)
    trials = wait_for_runs(client, "tags.`optuna.trial_number` != ''", 2, process)
    processes = descendants(process.pid)
    assert len(processes) >= 4  # the shell, the stage, two workers
    parent_run = trials[0].data.tags["mlflow.parentRunId"]

    # dvc dies at once on SIGTERM: the stage sees its parent go and stops itself
    stop_and_check(process, process.pid, processes, project_clone.parent / "stop.log")

    assert client.get_run(parent_run).info.status == "KILLED"
    children = client.search_runs(
        [trials[0].info.experiment_id], f"tags.`mlflow.parentRunId` = '{parent_run}'"
    )
    assert {trial.info.run_id for trial in trials} <= {run.info.run_id for run in children}
    assert "RUNNING" not in [run.info.status for run in children]  # in-flight trials: KILLED
    assert [snapshot(path) for path in outputs] == before
    assert (project_clone / "dvc.lock").read_bytes() == lock
