"""SIGHUP: a running ``mnist-mlops serve`` serves the version its alias names now (registry)."""

from __future__ import annotations

import os
import re
import signal
import time
import urllib.request

import psutil
import pytest
from mlflow import MlflowClient
from pipelines.prefect_server import free_port

from tests.helpers.recorded import call, stored_rows
from tests.helpers.servers import NAME, guarded_command, register_champion, running_server_process

pytestmark = pytest.mark.slow
RELOAD_TIMEOUT_S = 180
FAILED_RELOAD = ("reload failed", "aborting the restart")  # one process; uvicorn's supervisor


def workers_of(pid: int) -> set[int]:
    """The uvicorn worker processes of a server (none with one process)."""
    found = set()
    for child in psutil.Process(pid).children():
        try:
            if "spawn_main" in " ".join(child.cmdline()):
                found.add(child.pid)
        except psutil.Error:  # it ended meanwhile
            pass
    return found


def served_in_metrics(url: str) -> set[str]:
    """The versions ``/metrics`` says are served (``mnist_mlops_model_info`` 1)."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=30) as answer:
        text = answer.read().decode()
    found = re.findall(r'^mnist_mlops_model_info\{[^}]*version="([^"]*)"[^}]*\} 1\.0$', text, re.M)
    return set(found)


@pytest.mark.parametrize("workers", [1, 2])
def test_sighup_serves_the_version_the_alias_names_now(tiny_splits, tmp_path, workers):
    first = register_champion(tiny_splits["train"])
    port = free_port()
    x = tiny_splits["test"].x[:1].tolist()
    command = guarded_command(port, "-w", str(workers))
    with running_server_process(command, port, tmp_path / "server.log") as (url, process):
        assert call(f"{url}/model-info")[1]["version"] == first
        second = register_champion(tiny_splits["train"], epochs=1)
        assert second != first
        assert call(f"{url}/model-info")[1]["version"] == first  # pinned until told
        old_workers = workers_of(process.pid)
        assert len(old_workers) == (workers if workers > 1 else 0)
        os.kill(process.pid, signal.SIGHUP)
        statuses, versions = [], []
        deadline = time.monotonic() + RELOAD_TIMEOUT_S
        while (versions[-5:] != [second] * 5 or old_workers & workers_of(process.pid)) and (
            time.monotonic() < deadline
        ):
            statuses.append(call(f"{url}/invocations", {"inputs": x})[0])
            versions.append(call(f"{url}/model-info")[1]["version"])
            time.sleep(0.2)
        assert versions[-5:] == [second] * 5, (versions, (tmp_path / "server.log").read_text())
        assert set(statuses) == {200}  # answered throughout the reload
        served = served_in_metrics(url)
        assert served == {second}, (served, first)  # the old one's workers are gone
        assert process.poll() is None and len(workers_of(process.pid)) == len(old_workers)
        # Every worker records into the one store.
        answers = [call(f"{url}/invocations", {"inputs": x})[1] for _ in range(20)]
        ids = [answer["predictions"][0]["prediction_id"] for answer in answers]
        deadline = time.monotonic() + 30
        while not set(ids) <= set(rows := stored_rows(tmp_path / "predictions.db")):
            assert time.monotonic() < deadline, "predictions were not recorded"
            time.sleep(0.1)

        # An alias that names nothing now: the reload fails, the server keeps its model.
        MlflowClient().delete_registered_model_alias(NAME, "champion")
        os.kill(process.pid, signal.SIGHUP)
        log = tmp_path / "server.log"
        deadline = time.monotonic() + RELOAD_TIMEOUT_S
        while not any(word in log.read_text() for word in FAILED_RELOAD):
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.5)
        assert call(f"{url}/invocations", {"inputs": x})[0] == 200
        assert call(f"{url}/model-info")[1]["version"] == second and process.poll() is None
    assert {(rows[i]["model_version"], rows[i]["model_alias"]) for i in ids} == {
        (second, "champion")
    }
