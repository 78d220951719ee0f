"""The project's Prefect server: one for parallel users, stopped when idle, seen on any port."""

import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from pipelines.prefect_server import free_port, healthy, stop_process_group
from pipelines.project_server import project_home, server_folder, stop
from pipelines.server_state import RETRY_AFTER_S, FailedStart, ServerState

from tests.helpers.prefect import api, environment, wait_for
from tests.helpers.workspace import REPO_ROOT

LEASE = """
import sys, time
from pathlib import Path
from pipelines.project_server import project_server
with project_server(Path(sys.argv[1])) as url:
    print(url, flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_a_queued_experiments_copy_uses_the_server_of_its_project(tmp_path):
    copy = tmp_path / "project" / ".dvc" / "tmp" / "exps" / "tmpab12cd"
    copy.mkdir(parents=True)
    assert project_home(copy) == (tmp_path / "project").resolve()
    assert server_folder(copy) == (tmp_path / "project" / ".prefect").resolve()
    assert project_home(tmp_path / "project") == (tmp_path / "project").resolve()


def test_a_record_copied_with_the_project_is_not_the_copys_server(tmp_path):
    original, copy = tmp_path / "a" / ".prefect", tmp_path / "b" / ".prefect"
    original.mkdir(parents=True)
    state = ServerState("http://127.0.0.1:1/api", os.getpid(), "?", True, str(original.resolve()))
    state.write(original)
    shutil.copytree(original, copy)
    assert ServerState.read(original) == state
    assert ServerState.read(copy) is None


def test_a_failed_start_is_its_folders_own_and_recent_for_5_minutes(tmp_path):
    original, copy = tmp_path / "a" / ".prefect", tmp_path / "b" / ".prefect"
    original.mkdir(parents=True)
    FailedStart("exited with code 3", time.time(), str(original.resolve())).write(original)
    shutil.copytree(original, copy)
    failed = FailedStart.read(original)
    assert failed is not None and failed.recent()
    assert FailedStart.read(copy) is None  # a copied project has not failed
    folder = str(original.resolve())
    assert not FailedStart("x", time.time() - RETRY_AFTER_S - 1, folder).recent()
    assert not FailedStart("x", time.time() + 3600, folder).recent()  # clock stepped back


@pytest.mark.slow
def test_parallel_users_start_one_server_that_idles_out_and_the_ui_shows_its_runs(tmp_path):
    env = environment(MNIST_MLOPS_PREFECT_IDLE_S="3")
    users = [
        subprocess.Popen(
            [sys.executable, "-c", LEASE, str(tmp_path), "6"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    urls = {user.stdout.readline().strip() for user in users}  # once each has its server
    folder = tmp_path / ".prefect"
    state = ServerState.read(folder)
    assert state is not None and urls == {state.api_url}, [u.stderr.read() for u in users]
    log = (folder / "server.log").read_text()
    assert log.count("ready (pid") == 1, log  # one start, no race
    # a flow run recorded while the server is in use (as a stage's would be)
    flow = api(state.api_url, "/flows/", {"name": "download"})
    api(
        state.api_url,
        "/flow_runs/",
        {"flow_id": flow["id"], "name": "download · @abc1234", "tags": ["stage:download"]},
    )
    assert subprocess.run(
        [sys.executable, "-m", "pipelines.project_server", "status", str(folder)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.startswith(f"running: {state.api_url}")

    # `make prefect-ui` on a port of our choosing, over the same database
    port = free_port()
    ui = subprocess.Popen(
        ["make", "--no-print-directory", "prefect-ui", f"PREFECT_PORT={port}"]
        + [f"PREFECT_HOME_DIR={folder}"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        ui_api = f"http://127.0.0.1:{port}/api"
        wait_for(lambda: healthy(ui_api), 120, "the Prefect UI server answers")
        assert api(f"http://127.0.0.1:{port}", "/ui-settings")["api_url"] == ui_api
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as page:
            html = page.read().lower()
        assert b"<html" in html and b"prefect" in html
        runs = api(ui_api, "/flow_runs/filter", {})
        assert [(run["name"], run["tags"]) for run in runs] == [
            ("download · @abc1234", ["stage:download"])
        ]
    finally:
        stop_process_group(ui)

    for user in users:
        assert user.wait(timeout=60) == 0, user.stderr.read()
    # nobody uses it any more: it stops itself 3 s later, and says so in its record
    wait_for(lambda: ServerState.read(folder) is None, 60, "server.json is removed")
    wait_for(lambda: not healthy(state.api_url), 30, "the server is stopped after its record")
    assert "idle for 3.0 s: stopping" in (folder / "server.log").read_text()
    assert not stop(folder)  # nothing left to stop


@pytest.mark.slow
def use_project_server(root) -> subprocess.CompletedProcess:
    """One user of ``root``'s project server (started if none runs), which idles out late."""
    return subprocess.run(
        [sys.executable, "-c", LEASE, str(root), "0"],
        env=environment(MNIST_MLOPS_PREFECT_IDLE_S="600"),
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_a_dead_supervisors_record_is_replaced_by_a_new_server(tmp_path):
    folder = tmp_path / ".prefect"
    folder.mkdir()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    )
    stale = ServerState(
        "http://127.0.0.1:9/api", int(dead.stdout), "0", True, str(folder.resolve())
    )
    stale.write(folder)
    user = use_project_server(tmp_path)
    assert user.returncode == 0, user.stderr
    state = ServerState.read(folder)
    assert state is not None and state != stale and user.stdout.strip() == state.api_url
    assert healthy(state.api_url)
    assert stop(folder)  # `make prefect-stop`
    assert ServerState.read(folder) is None and not healthy(state.api_url)


def test_a_supervisor_killed_with_sigkill_takes_its_server_with_it(tmp_path):
    folder = tmp_path / ".prefect"
    user = use_project_server(tmp_path)
    assert user.returncode == 0, user.stderr
    state = ServerState.read(folder)
    assert state is not None and healthy(state.api_url)
    os.kill(state.supervisor_pid, 9)  # no chance to stop its server itself
    wait_for(lambda: not healthy(state.api_url), 60, "the orphaned server to stop")


@pytest.mark.slow
def test_a_failed_start_is_recorded_and_the_next_users_fall_back_at_once(tmp_path):
    folder = tmp_path / ".prefect"
    unopenable = "sqlite+aiosqlite:////proc/no-such-folder/prefect.db"  # the server exits

    def use() -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-c", LEASE, str(tmp_path), "0"],
            env=environment(PREFECT_API_DATABASE_CONNECTION_URL=unopenable),
            capture_output=True,
            text=True,
            timeout=180,
        )

    def starts_failed() -> int:
        return (folder / "server.log").read_text().count("the Prefect server did not start")

    first = use()
    assert (first.returncode, first.stdout.strip()) == (0, "None"), first.stderr
    failed = FailedStart.read(folder)
    assert failed is not None and "prefect server start exited with code" in failed.reason
    assert f"did not start ({failed.reason})" in first.stderr
    assert ServerState.read(folder) is None and starts_failed() == 1
    second = use()  # no second start: the recent failure is reported, a fallback at once
    assert second.stdout.strip() == "None"
    assert "failed to start" in second.stderr and "not retried for 300 s" in second.stderr
    assert starts_failed() == 1
    status = subprocess.run(
        [sys.executable, "-m", "pipelines.project_server", "status", str(folder)],
        env=environment(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert status.startswith("not running (a start failed") and failed.reason in status
    assert not stop(folder) and FailedStart.read(folder) is None  # stop forgets the failure
    use()  # the next user tries again
    assert starts_failed() == 2
