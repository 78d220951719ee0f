"""The process that runs the project's Prefect server and stops it once it is idle.

Started (detached) by :func:`pipelines.project_server.project_server`. Idle means: no process
holds ``in-use.lock`` shared. The supervisor checks that by taking it exclusively (without
waiting) every ``POLL_S`` seconds; after ``MNIST_MLOPS_PREFECT_IDLE_S`` seconds of idleness it
removes ``server.json`` and stops the server while still holding the lock, so that no process
starts using a server that is going away (it waits, then starts a new one).
"""

from __future__ import annotations

import dataclasses
import fcntl
import logging
import os
import signal
import time
from pathlib import Path

from mnist_mlops.processes import process_started
from pipelines.prefect_server import (
    START_TIMEOUT_S,
    free_port,
    start_server,
    stop_process_group,
    wait_healthy,
)
from pipelines.server_state import FailedStart, ServerState

logger = logging.getLogger("mnist_mlops.prefect_server")
IDLE_ENV = "MNIST_MLOPS_PREFECT_IDLE_S"
DEFAULT_IDLE_S = 600.0
POLL_S = 0.5


def idle_timeout_s() -> float:
    """Return the idle time after which the server stops (``MNIST_MLOPS_PREFECT_IDLE_S``)."""
    value = os.environ.get(IDLE_ENV, "")
    try:
        return float(value) if value else DEFAULT_IDLE_S
    except ValueError:
        logger.warning(
            "%s=%r is not a number of seconds: using %s", IDLE_ENV, value, DEFAULT_IDLE_S
        )
        return DEFAULT_IDLE_S


def _idle(lease_file) -> bool:
    """Return whether nobody uses the server; if so, the caller holds the lock exclusively."""
    try:
        fcntl.flock(lease_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def supervise(folder: Path) -> int:
    """Start a server with its database in ``folder``, record it, stop it when idle.

    Returns:
        0 after an idle stop or a stop signal, 1 if the server did not start or died.
    """
    stop_requested: list[int] = []
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, lambda number, frame: stop_requested.append(number))
    port = free_port()
    pid = os.getpid()
    started = process_started(pid) or "?"
    state = ServerState(f"http://127.0.0.1:{port}/api", pid, started, False, str(folder.resolve()))
    state.write(folder)
    env = {name: value for name, value in os.environ.items() if name != "PREFECT_API_URL"}
    # the server dies with its supervisor, even a SIGKILLed one: never two over one database
    server = start_server(
        port, folder / "server.log", dict(env, PREFECT_HOME=str(folder)), die_with_parent=True
    )
    if not wait_healthy(server, state.api_url, cancelled=lambda: bool(stop_requested)):
        exited = server.poll()
        if stop_requested:
            logger.info("stopped before the server was ready")
        elif exited is not None:  # a real failure: stages fall back at once for a while
            reason = f"prefect server start exited with code {exited}"
            logger.error("the Prefect server did not start: %s", reason)
            FailedStart(reason, time.time(), str(folder.resolve())).write(folder)
        else:  # slow (under load): the next stage tries again
            logger.error(
                "the Prefect server did not start: no answer at %s within %.0f s",
                state.api_url,
                START_TIMEOUT_S,
            )
        state.clear(folder)
        stop_process_group(server)
        return 0 if stop_requested else 1
    FailedStart.clear(folder)
    state = dataclasses.replace(state, ready=True)
    state.write(folder)
    timeout_s = idle_timeout_s()
    logger.info(
        "Prefect server %s ready (pid %d); stops after %s s idle",
        state.api_url,
        server.pid,
        timeout_s,
    )
    code = 0
    idle_since: float | None = None
    with open(folder / "in-use.lock", "a") as lease:
        while not stop_requested:
            if server.poll() is not None:
                logger.error("the Prefect server exited with %s", server.returncode)
                code = 1
                break
            if _idle(lease):
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since >= timeout_s:
                    logger.info("idle for %s s: stopping", timeout_s)
                    break  # the lock stays held until the server is gone
                fcntl.flock(lease, fcntl.LOCK_UN)
            else:
                idle_since = None
            time.sleep(POLL_S)
        state.clear(folder)
        stop_process_group(server)
    return code
