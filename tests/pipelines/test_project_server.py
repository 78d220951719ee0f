"""The project's Prefect server: one for parallel users, its UI answering the links a stage
prints, stopped when idle, never orphaned; the offline fallback is no failure on it."""

import os
import re
import shutil
import subprocess
import sys
import urllib.request

import pytest
import yaml
from pipelines.prefect_server import free_port, healthy, running, server_folder, stop

from tests.helpers.prefect import api, environment, wait_for
from tests.helpers.workspace import REPO_ROOT

LEASE = """
import sys, time
from pathlib import Path
from pipelines.prefect_server import project_server
with project_server(Path(sys.argv[1])) as url:
    print(url, flush=True)
    time.sleep(float(sys.argv[2]))
"""


def use_project_server(root, seconds: float = 0, **env: str) -> subprocess.CompletedProcess:
    """One user of ``root``'s project server (started if none runs) for ``seconds``."""
    return subprocess.run(
        [sys.executable, "-c", LEASE, str(root), str(seconds)],
        env=environment(**{"MNIST_MLOPS_PREFECT_IDLE_S": "600"} | env),
        capture_output=True,
        text=True,
        timeout=180,
    )


def opens_in_a_browser(url: str) -> int:
    """The status of ``GET url`` as a browser asks for a page (``Accept: text/html``)."""
    request = urllib.request.Request(url, headers={"Accept": "text/html"})
    with urllib.request.urlopen(request, timeout=30) as page:
        assert b"<html" in page.read().lower()
        return page.status


def test_a_queued_experiments_copy_uses_the_server_of_its_project(tmp_path):
    copy = tmp_path / "project" / ".dvc" / "tmp" / "exps" / "tmpab12cd"
    copy.mkdir(parents=True)
    assert server_folder(copy) == (tmp_path / "project" / ".prefect").resolve()
    assert server_folder(tmp_path / "project") == (tmp_path / "project" / ".prefect").resolve()


@pytest.mark.slow
def test_parallel_users_start_one_server_that_idles_out_and_a_copy_does_not_see_it(tmp_path):
    env = {"MNIST_MLOPS_PREFECT_IDLE_S": "3"}
    users = [
        subprocess.Popen(
            [sys.executable, "-c", LEASE, str(tmp_path), "6"],
            env=environment(**env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    urls = {user.stdout.readline().strip() for user in users}  # once each has its server
    folder = tmp_path / ".prefect"
    state = running(folder)
    assert state is not None and urls == {state["api_url"]}, [u.stderr.read() for u in users]
    log = (folder / "server.log").read_text()
    assert log.count(" ready; stops after") == 1, log  # one start, no race
    copy = tmp_path / "copy" / ".prefect"
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("prefect.db*"))
    assert running(copy) is None  # a copied project's record is not its server

    # `make prefect-ui` on a port of our choosing, over the same database
    port = free_port()
    ui = subprocess.Popen(
        ["make", "--no-print-directory", "prefect-ui", f"PREFECT_PORT={port}"]
        + [f"PREFECT_HOME_DIR={folder}"],
        cwd=REPO_ROOT,
        env=environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        ui_api = f"http://127.0.0.1:{port}/api"
        wait_for(lambda: healthy(ui_api), 120, "the Prefect UI server answers")
        assert api(f"http://127.0.0.1:{port}", "/ui-settings")["api_url"] == ui_api
        assert opens_in_a_browser(f"http://127.0.0.1:{port}/") == 200
    finally:
        os.killpg(ui.pid, 15)
        ui.wait(timeout=30)

    for user in users:
        assert user.wait(timeout=60) == 0, user.stderr.read()
    # nobody uses it any more: it stops itself 3 s later, and says so in its record
    wait_for(lambda: running(folder) is None, 60, "server.json is removed")
    wait_for(lambda: not healthy(state["api_url"]), 30, "the server is stopped")
    assert "idle for 3.0 s: stopping" in (folder / "server.log").read_text()
    assert not stop(folder)  # nothing left to stop


@pytest.mark.slow
def test_a_supervisor_killed_with_sigkill_takes_its_server_and_the_next_user_starts_one(
    tmp_path,
):
    folder = tmp_path / ".prefect"
    user = use_project_server(tmp_path)
    assert user.returncode == 0, user.stderr
    state = running(folder)
    assert state is not None and healthy(state["api_url"])
    os.kill(state["pid"], 9)  # no chance to stop its server itself
    wait_for(lambda: not healthy(state["api_url"]), 60, "the orphaned server to stop")
    assert running(folder) is None  # its record is left, but nobody holds alive.lock
    user = use_project_server(tmp_path)
    assert user.returncode == 0, user.stderr
    new = running(folder)
    assert new is not None and new != state and user.stdout.strip() == new["api_url"]
    assert stop(folder)  # `make prefect-stop`
    assert running(folder) is None and not healthy(new["api_url"])


@pytest.mark.slow
def test_a_server_stops_when_its_project_folder_is_deleted(tmp_path):
    user = use_project_server(tmp_path)  # idle stop after 600 s
    assert user.returncode == 0, user.stderr
    state = running(tmp_path / ".prefect")
    assert state is not None and healthy(state["api_url"])
    shutil.rmtree(tmp_path)
    wait_for(lambda: not healthy(state["api_url"]), 60, "the deleted project's server stops")


@pytest.mark.slow
def test_a_server_that_cannot_start_leaves_the_user_on_its_own(tmp_path):
    unopenable = "sqlite+aiosqlite:////proc/no-such-folder/prefect.db"  # the server exits
    user = use_project_server(tmp_path, PREFECT_API_DATABASE_CONNECTION_URL=unopenable)
    assert (user.returncode, user.stdout.strip()) == (0, "None"), user.stderr
    assert "the Prefect server did not start: see" in user.stderr
    assert "did not start (exit code" in (tmp_path / ".prefect" / "server.log").read_text()
    assert running(tmp_path / ".prefect") is None


@pytest.mark.slow
def test_the_offline_fallback_completes_every_task_and_its_printed_link_opens(tmp_path):
    """``data.source: auto`` offline: a WARNING, no ERROR, every task run Completed, and the
    ``View at`` link the stage prints opens while the project's server runs."""
    params = tmp_path / "params.yaml"
    offline = {"source": "auto", "mirror": "http://no-such-host.invalid/mnist/"}
    params.write_text(yaml.safe_dump({"data": offline, "mlflow": {"experiment": "offline"}}))
    stage = subprocess.run(
        [sys.executable, "-m", "pipelines", "download", "--params", str(params)],
        cwd=tmp_path,
        env=environment(MNIST_MLOPS_PREFECT_IDLE_S="600"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = stage.stdout + stage.stderr
    folder = tmp_path / ".prefect"
    try:
        assert stage.returncode == 0, output[-4000:]
        assert re.search(r"WARNING .*FALLING BACK to the 5,000 embedded digits", output), output
        assert not re.search(r"\bERROR\b", output), output
        state = running(folder)
        assert state is not None, output[-4000:]
        links = re.findall(r"View at (http://127\.0\.0\.1:\d+/runs/flow-run/([0-9a-f-]+))", output)
        assert len(links) == 1 and links[0][0].startswith(state["api_url"][: -len("/api")])
        link, flow_run_id = links[0]
        assert opens_in_a_browser(link) == 200
        flow_run = api(state["api_url"], f"/flow_runs/{flow_run_id}")
        assert flow_run["state_type"] == "COMPLETED"
        assert {"stage:download", "mlflow-experiment:offline"} <= set(flow_run["tags"])
        task_runs = api(
            state["api_url"], "/task_runs/filter", {"flow_runs": {"id": {"any_": [flow_run_id]}}}
        )
        assert task_runs and {run["state_type"] for run in task_runs} == {"COMPLETED"}
    finally:
        stop(folder)
