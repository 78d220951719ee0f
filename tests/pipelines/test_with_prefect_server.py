"""`make repro`'s wrapper: the command gets the project's server and the signals sent to it."""

import signal
import subprocess
import sys
import time

import pytest
from pipelines.prefect_server import healthy
from pipelines.server_state import ServerState

from mnist_mlops.processes import process_started
from tests.helpers.prefect import environment as prefect_environment
from tests.helpers.prefect import wait_for

pytestmark = pytest.mark.slow
WRAPPER = [sys.executable, "-m", "pipelines.with_prefect_server"]


def environment():
    return prefect_environment(MNIST_MLOPS_PREFECT_IDLE_S="2")


def test_command_gets_the_projects_server_which_idles_out_and_its_exit_code_is_passed_on(
    tmp_path,
):
    probe = (
        "import os; from pathlib import Path; from pipelines.server_state import ServerState; "
        "print('API', os.environ['PREFECT_API_URL']); "
        "print('PROJECT', ServerState.read(Path('.prefect').resolve()).api_url); "
        "raise SystemExit(3)"
    )
    result = subprocess.run(
        [*WRAPPER, sys.executable, "-c", probe],
        cwd=tmp_path,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 3, result.stderr
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    assert lines["API"].startswith("http://127.0.0.1:")
    assert lines["API"] == lines["PROJECT"]  # the project's server, recorded in .prefect/
    wait_for(
        lambda: not healthy(lines["API"]), 60, "the idle server stops"
    )  # nobody uses it: it stops itself
    assert ServerState.read(tmp_path / ".prefect") is None


def test_sigterm_is_passed_on_to_the_command(tmp_path):
    marker = tmp_path / "pid"
    command = (
        f"import os, time; open({str(marker)!r}, 'w').write(str(os.getpid())); time.sleep(120)"
    )
    wrapper = subprocess.Popen(
        [*WRAPPER, sys.executable, "-c", command],
        cwd=tmp_path,
        env=environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not (marker.is_file() and marker.read_text()):
        assert time.monotonic() < deadline and wrapper.poll() is None
        time.sleep(0.2)
    pid = int(marker.read_text())
    assert process_started(pid) is not None
    wrapper.send_signal(signal.SIGTERM)
    assert wrapper.wait(timeout=60) == 128 + signal.SIGTERM
    assert process_started(pid) is None
    state = ServerState.read(tmp_path / ".prefect")
    if state is not None:  # still idling out
        wait_for(lambda: not healthy(state.api_url), 60, "the idle server stops")
