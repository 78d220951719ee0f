"""`make repro`'s wrapper: one Prefect server for the command, always stopped afterwards."""

import os
import signal
import subprocess
import sys
import time

import pytest
from pipelines.with_prefect_server import healthy

from tests.helpers.workspace import REPO_ROOT

pytestmark = pytest.mark.slow
WRAPPER = [sys.executable, "-m", "pipelines.with_prefect_server"]


def environment():
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PYTHONPATH"] = str(REPO_ROOT)
    return env


def test_command_gets_a_server_that_is_stopped_afterwards_and_its_exit_code_is_passed_on(
    tmp_path,
):
    probe = "import os; print('API', os.environ['PREFECT_API_URL']); raise SystemExit(3)"
    result = subprocess.run(
        [*WRAPPER, sys.executable, "-c", probe],
        cwd=tmp_path,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 3, result.stderr
    api_url = result.stdout.split("API ", 1)[1].strip()
    assert api_url.startswith("http://127.0.0.1:")
    assert not healthy(api_url)


def test_sigterm_still_stops_the_server(tmp_path):
    marker = tmp_path / "api_url"
    command = (
        f"import os, time; open({str(marker)!r}, 'w').write(os.environ['PREFECT_API_URL']); "
        "time.sleep(120)"
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
    api_url = marker.read_text()
    assert healthy(api_url)
    wrapper.send_signal(signal.SIGTERM)
    assert wrapper.wait(timeout=60) == 128 + signal.SIGTERM
    assert not healthy(api_url)
