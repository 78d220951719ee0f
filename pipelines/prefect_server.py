"""Start, probe and stop a ``prefect server start`` process on loopback.

The building blocks of the project's shared server (:mod:`pipelines.project_server`) and of
the tests' and benchmarks' servers: a free port, a health check, a server process, and the
stop of a process group.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

logger = logging.getLogger("mnist_mlops.prefect_server")
START_TIMEOUT_S = 90.0


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthy(api_url: str) -> bool:
    """Return whether ``GET {api_url}/health`` answers 200 (Prefect's and MLflow's health check)."""
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def stop_process_group(process: subprocess.Popen, timeout_s: float = 20.0) -> None:
    """Stop a process started with ``start_new_session=True`` and all its children."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM when the parent dies (Linux ``PR_SET_PDEATHSIG``)."""
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def start_server(
    port: int,
    log_path: Path,
    env: dict[str, str] | None = None,
    die_with_parent: bool = False,
) -> subprocess.Popen:
    """Start ``prefect server start`` on ``127.0.0.1:port`` in its own session, UI off.

    Args:
        port: The loopback port to listen on.
        log_path: The file that gets the server's output.
        env: The server's environment (default: this process's); analytics are always off.
        die_with_parent: Stop the server (SIGTERM) when this process dies, even by SIGKILL:
            a supervisor killed with ``kill -9`` leaves no server running (Linux only).
    """
    server_env = dict(env if env is not None else os.environ)
    server_env.update(PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_UI_ENABLED="false")
    command = [sys.executable, "-m", "prefect", "server", "start"]
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=server_env,
            start_new_session=True,
            preexec_fn=_die_with_parent if die_with_parent and sys.platform == "linux" else None,
        )


def wait_healthy(
    process: subprocess.Popen,
    api_url: str,
    timeout_s: float = START_TIMEOUT_S,
    cancelled: Callable[[], bool] = lambda: False,
) -> bool:
    """Wait until the server answers at ``api_url``.

    Returns:
        ``False`` if it exited, timed out or the wait was ``cancelled()``.
    """
    deadline = time.monotonic() + timeout_s
    while not healthy(api_url):
        if process.poll() is not None or time.monotonic() > deadline or cancelled():
            return False
        time.sleep(0.2)
    return True
