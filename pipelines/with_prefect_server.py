"""Run a command (``dvc repro``) with one Prefect server shared by all its stages.

Without a server every stage process starts and stops its own ephemeral Prefect server
(about 6 s each here). This wrapper starts ``prefect server start`` once on a free loopback
port, points ``PREFECT_API_URL`` at it for the command, and stops it afterwards. The flow runs
land in the same Prefect database (``$PREFECT_HOME``) that ``make prefect-ui`` shows. When
``PREFECT_API_URL`` is already set, the command simply uses that server.

The command runs in its own process group. SIGINT, SIGTERM and SIGHUP to this process (``make``
passes SIGTERM on) are sent to that whole group, so the running stage gets them too and stops
cleanly (:mod:`pipelines._stage`); whatever of the group still runs ``STOP_TIMEOUT_S`` seconds
later is killed, and the server is stopped last.

Usage: ``python -m pipelines.with_prefect_server dvc repro [ARGS...]``
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
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from mnist_mlops.processes import running_processes

logger = logging.getLogger("mnist_mlops.prefect_server")
START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 8.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


def group_members(pgid: int) -> list[int]:
    """Return the running processes of the process group ``pgid`` (zombies do not count).

    A stage whose ``dvc repro`` died is re-parented; where nothing reaps it, its zombie stays
    in the group: on Linux ``/proc`` tells zombies apart, elsewhere any member counts.
    """
    members = running_processes(group=pgid)
    if members is not None:
        return members
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return []
    except PermissionError:
        pass
    return [pgid]


def _end_group(pgid: int, deadline: float) -> None:
    """Wait until the group ``pgid`` is empty; at ``deadline`` kill what is left of it."""
    while members := group_members(pgid):
        if time.monotonic() > deadline:
            logger.warning("killing what is left of process group %d: %s", pgid, members)
            with suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
            return
        time.sleep(0.1)


def run_command(argv: list[str], env: dict[str, str] | None = None) -> int:
    """Run ``argv`` in its own process group, passing stop signals to the whole group.

    Returns:
        The command's exit code, or 128 + the signal number when stopped by a signal.
    """
    received: list[int] = []
    process = subprocess.Popen(argv, env=env, start_new_session=True)

    def forward(signum: int, frame: object) -> None:
        received.append(signum)
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signum)

    previous = {signum: signal.signal(signum, forward) for signum in STOP_SIGNALS}
    try:
        while process.poll() is None and not received:
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=0.5)
        deadline = time.monotonic() + (STOP_TIMEOUT_S if received else 0.0)
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        # a stage whose dvc died still runs in the group: it stops itself, or is killed
        _end_group(process.pid, deadline)
        code = process.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 128 + received[0] if received else code


def healthy(api_url: str) -> bool:
    """Return whether ``GET {api_url}/health`` answers 200 (Prefect's and MLflow's health check)."""
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def prefect_server(log_path: Path = Path(".prefect-server.log")) -> Iterator[str | None]:
    """Start a Prefect server on loopback; yield its API URL (``None`` if it would not start)."""
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = dict(os.environ, PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_UI_ENABLED="false")
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "prefect",
                "server",
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not healthy(api_url):
            if process.poll() is not None or time.monotonic() > deadline:
                logger.warning(
                    "Prefect server did not start (see %s); stages will use ephemeral servers",
                    log_path,
                )
                yield None
                return
            time.sleep(0.2)
        yield api_url
    finally:
        stop_process_group(process)


def main(argv: list[str]) -> int:
    """Run ``argv`` with ``PREFECT_API_URL`` pointing at a shared server; return its exit code."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    if os.environ.get("PREFECT_API_URL"):
        return run_command(argv)
    # SIGTERM / SIGHUP (a cancelled job, a closed terminal) while the server starts must still
    # stop it (it runs in its own session): SystemExit runs the cleanup below. While the
    # command runs, run_command passes the signals on instead.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda number, frame: sys.exit(128 + number))
    with prefect_server() as api_url:
        env = dict(os.environ)
        if api_url:
            env["PREFECT_API_URL"] = api_url
            logger.info("Prefect server for this run: %s", api_url)
        return run_command(argv, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
