"""Run a command (``dvc repro``) with the project's Prefect server, in its own process group.

``make repro`` runs ``dvc repro`` through this wrapper. It holds the project's shared server
(:mod:`pipelines.prefect_server`, started if none runs) for the whole command and points
``PREFECT_API_URL`` at it; when ``PREFECT_API_URL`` is already set, the command uses that
server. The server stays up for the next command and stops itself once idle.

The command runs in its own process group. SIGINT, SIGTERM and SIGHUP to this process (``make``
passes SIGTERM on) are sent to that whole group, so the running stage gets them too and stops
cleanly (:mod:`pipelines._stage`); whatever of the group still runs ``STOP_TIMEOUT_S`` seconds
later is killed.

Usage: ``python -m pipelines.with_prefect_server dvc repro [ARGS...]``
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

from mnist_mlops.processes import running_processes
from pipelines.prefect_server import project_server

logger = logging.getLogger("mnist_mlops.prefect_server")
STOP_TIMEOUT_S = 8.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


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


def main(argv: list[str]) -> int:
    """Run ``argv`` with ``PREFECT_API_URL`` pointing at a shared server; return its exit code."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    if os.environ.get("PREFECT_API_URL"):
        return run_command(argv)
    # SIGTERM / SIGHUP (a cancelled job, a closed terminal) while the server starts end this
    # process (the server, detached, stops itself when idle). While the command runs,
    # run_command passes the signals on instead.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda number, frame: sys.exit(128 + number))
    with project_server(Path.cwd()) as api_url:
        env = dict(os.environ)
        if api_url:
            env["PREFECT_API_URL"] = api_url
            logger.info("Prefect server for this run: %s", api_url)
        return run_command(argv, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
