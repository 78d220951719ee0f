"""The project's own Prefect server: started by the first stage that needs it, shared, idle-stopped.

Plain ``dvc repro``, ``dvc exp run`` (queued ones included) and ``make repro`` all use one
server per project, whose database lives in the project (``.prefect/``, git-ignored), unless
``PREFECT_API_URL`` names a server of your own. Its files, in ``<project>/.prefect/``:

- ``prefect.db``: Prefect's database (the server's ``PREFECT_HOME`` is this folder);
- ``server.json``: the running server (API URL, its supervisor's pid and start time, ready);
- ``server.lock``: held while a server starts, so parallel stages never start two;
- ``in-use.lock``: held shared by every process that uses the server; the supervisor takes
  it exclusively to find the server idle, and stops it after ``MNIST_MLOPS_PREFECT_IDLE_S``
  seconds (default 600) of idleness;
- ``server.log``: the supervisor's and the server's output;
- ``start-failed.json``: ``prefect server start`` exited (when, why): for 5 minutes stages
  use ephemeral servers at once instead of each waiting out a start of its own.

A queued experiment runs in a temporary copy (``<project>/.dvc/tmp/exps/<copy>``): it uses the
server of the project it was queued in. Usage: ``python -m pipelines.project_server
status|stop|supervise [FOLDER]``.
"""

from __future__ import annotations

import fcntl
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from mnist_mlops.native_stderr import restore_native_stderr
from pipelines.prefect_server import START_TIMEOUT_S
from pipelines.server_state import PREFECT_DIR, RETRY_AFTER_S, FailedStart, ServerState

logger = logging.getLogger("mnist_mlops.prefect_server")
QUEUED_COPY_PARENTS = (".dvc", "tmp", "exps")  # where `dvc exp run --queue` runs an experiment


def project_home(root: Path) -> Path:
    """Return the project ``root`` belongs to: itself, or the project of a queued copy."""
    root = root.resolve()
    for folder in root.parents:
        if (folder.parent.parent.name, folder.parent.name, folder.name) == QUEUED_COPY_PARENTS:
            return folder.parent.parent.parent
    return root


def server_folder(root: Path) -> Path:
    """Return (and create) the folder of the project's server: ``<project>/.prefect``."""
    folder = project_home(root) / PREFECT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def project_server(root: Path, start_timeout_s: float = START_TIMEOUT_S) -> Iterator[str | None]:
    """Use the project's server for the block: yield its API URL, starting it if needed.

    While the block runs, the server is in use (it is not stopped for idleness). Yields
    ``None`` when no server would start within ``start_timeout_s`` (see ``server.log``).

    Args:
        root: The project (or a queued experiment's copy of it).
        start_timeout_s: How long to wait for a server to start.
    """
    folder = server_folder(root)
    with open(folder / "in-use.lock", "a") as lease:
        fcntl.flock(lease, fcntl.LOCK_SH)  # released when the file closes
        state = ServerState.read(folder)
        if state is not None and state.alive():
            yield state.api_url
        else:
            yield _start(folder, start_timeout_s)


def _start(folder: Path, timeout_s: float) -> str | None:
    """Start a supervised server unless another process just did; return its API URL."""
    with open(folder / "server.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        state = ServerState.read(folder)
        if state is not None and state.alive():
            return state.api_url
        starting = state is not None and not state.ready and state.supervisor_alive()
        failed = FailedStart.read(folder)
        if not starting and failed is not None and failed.recent():
            logger.warning(
                "the project's Prefect server failed to start %.0f s ago (%s; see %s): not "
                "retried for %.0f s (python -m pipelines.project_server stop clears this)",
                failed.age_s(),
                failed.reason,
                folder / "server.log",
                RETRY_AFTER_S,
            )
            return None
        if not starting:  # none, or one whose supervisor died or whose server stopped answering
            if state is not None:
                state.signal_supervisor()
                state.clear(folder)
            FailedStart.clear(folder)
            _spawn_supervisor(folder)
        deadline, seen = time.monotonic() + timeout_s, False
        while time.monotonic() < deadline:
            state = ServerState.read(folder)
            if state is not None and state.ready and state.alive():
                logger.info("project Prefect server: %s", state.api_url)
                return state.api_url
            failed = FailedStart.read(folder)
            gone = seen and state is None  # its supervisor recorded it, then gave up
            if failed is not None or gone or (state is not None and not state.supervisor_alive()):
                break  # it gave up (the reason is in server.log)
            seen = seen or state is not None
            time.sleep(0.2)
        reason = f" ({failed.reason})" if failed is not None else ""
        logger.warning("the Prefect server did not start%s: see %s", reason, folder / "server.log")
        return None


def _spawn_supervisor(folder: Path) -> None:
    """Start a detached supervisor of a new server for ``folder``."""
    logger.info("starting the project's Prefect server (database in %s)", folder)
    with open(folder / "server.log", "ab") as log:
        # the supervisor detaches (forks and returns at once): it outlives this process
        subprocess.run(
            [sys.executable, "-m", "pipelines.project_server", "supervise", str(folder)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            check=True,
        )


def stop(folder: Path, timeout_s: float = 30.0) -> bool:
    """Stop the server of ``folder`` now (and forget a failed start); return whether one ran."""
    FailedStart.clear(folder)
    state = ServerState.read(folder)
    if state is None or not state.supervisor_alive():
        return False
    state.signal_supervisor()
    deadline = time.monotonic() + timeout_s
    while state.supervisor_alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    return True


def main(argv: list[str]) -> int:
    """``status`` / ``stop`` the project's server, or ``supervise`` one (what stages start)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if not argv or argv[0] not in ("status", "stop", "supervise"):
        print(__doc__, file=sys.stderr)
        return 2
    folder = Path(argv[1]) if len(argv) > 1 else server_folder(Path.cwd())
    if argv[0] == "supervise":
        restore_native_stderr()  # (its pump thread would not survive the fork)
        if os.fork() > 0:  # detach: the starting stage waits for this, not for the server
            os._exit(0)
        from pipelines.server_supervisor import supervise

        return supervise(folder)
    state = ServerState.read(folder)
    running = state is not None and state.alive()
    if argv[0] == "stop":
        print("stopped" if stop(folder) else "not running")
    elif running and state:
        print(f"running: {state.api_url}")
    else:
        failed = FailedStart.read(folder)
        why = f" (a start failed {failed.age_s():.0f} s ago: {failed.reason})" if failed else ""
        print(f"not running{why}")
    return 0


if __name__ == "__main__":
    with suppress(KeyboardInterrupt):
        sys.exit(main(sys.argv[1:]))
