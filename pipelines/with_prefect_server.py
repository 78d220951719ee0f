"""Run a command (``dvc repro``) with one Prefect server shared by all its stages.

Without a server every stage process starts and stops its own ephemeral Prefect server
(about 6 s each here). This wrapper starts ``prefect server start`` once on a free loopback
port, points ``PREFECT_API_URL`` at it for the command, and stops it afterwards. The flow runs
land in the same Prefect database (``$PREFECT_HOME``) that ``make prefect-ui`` shows. When
``PREFECT_API_URL`` is already set, the command simply uses that server.

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
from contextlib import contextmanager
from pathlib import Path

logger = logging.getLogger("mnist_mlops.prefect_server")
START_TIMEOUT_S = 90.0


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
        return subprocess.call(argv)
    # SIGTERM / SIGHUP (a cancelled job, a closed terminal) must still stop the server, which
    # runs in its own session: turn them into SystemExit so the cleanup below runs.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda number, frame: sys.exit(128 + number))
    with prefect_server() as api_url:
        env = dict(os.environ)
        if api_url:
            env["PREFECT_API_URL"] = api_url
            logger.info("Prefect server for this run: %s", api_url)
        return subprocess.call(argv, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
