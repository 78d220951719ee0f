"""SIGHUP: a running ``mnist-mlops serve`` serves the version its alias names now (registry)."""

from __future__ import annotations

import os
import signal
import time

import pytest
from pipelines.prefect_server import free_port

from tests.helpers.recorded import call, stored_rows
from tests.helpers.servers import guarded_command, register_champion, running_server_process

pytestmark = pytest.mark.slow
RELOAD_TIMEOUT_S = 180


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
        os.kill(process.pid, signal.SIGHUP)
        statuses, versions = [], []
        deadline = time.monotonic() + RELOAD_TIMEOUT_S
        while versions[-5:] != [second] * 5 and time.monotonic() < deadline:
            statuses.append(call(f"{url}/invocations", {"inputs": x})[0])
            versions.append(call(f"{url}/model-info")[1]["version"])
            time.sleep(0.2)
        assert versions[-5:] == [second] * 5, (versions, (tmp_path / "server.log").read_text())
        assert set(statuses) == {200}  # answered throughout the reload
        assert process.poll() is None
        prediction_id = call(f"{url}/invocations", {"inputs": x})[1]["predictions"][0][
            "prediction_id"
        ]
        deadline = time.monotonic() + 30
        while prediction_id not in (rows := stored_rows(tmp_path / "predictions.db")):
            assert time.monotonic() < deadline, "the prediction was not recorded"
            time.sleep(0.1)
    row = rows[prediction_id]
    assert row["model_version"] == second and row["model_alias"] == "champion"
