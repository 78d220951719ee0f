"""The project's Prefect server: one ``prefect server start`` per project, shared, idle-stopped.

Prefect's own ``--background`` records no port and never stops (measured:
docs/decisions/prefect-server.md). Files in ``<project>/.prefect/`` (its ``PREFECT_HOME``):

- ``server.json``: the running server's API URL and its supervisor's pid, written once it answers;
- ``server.log``: the supervisor's and the server's output;
- ``start.lock``: held while a server starts (parallel stages start one);
- ``alive.lock``: held by the supervisor as long as it runs;
- ``in-use.lock``: held shared by every user; the supervisor stops the server after
  ``MNIST_MLOPS_PREFECT_IDLE_S`` seconds (default 600) during which it could take it exclusively.

A queued experiment's copy (``<project>/.dvc/tmp/exps/<copy>``) uses its project's server.
Usage: ``python -m pipelines.prefect_server stop|supervise [FOLDER]``.
"""

from __future__ import annotations

import fcntl
import json
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

logger = logging.getLogger("mnist_mlops.prefect_server")
PREFECT_DIR = ".prefect"  # in the project root; git-ignored
QUEUED_COPY_PARENTS = (".dvc", "tmp", "exps")  # where `dvc exp run --queue` runs an experiment
IDLE_ENV = "MNIST_MLOPS_PREFECT_IDLE_S"
START_TIMEOUT_S = 90.0
POLL_S = 0.5


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthy(api_url: str) -> bool:
    """Return whether ``GET {api_url}/health`` answers 200."""
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


def server_folder(root: Path) -> Path:
    """Return (and create) ``<project>/.prefect`` of ``root`` or of the queued copy ``root``."""
    root = root.resolve()
    for folder in root.parents:
        if (folder.parent.parent.name, folder.parent.name, folder.name) == QUEUED_COPY_PARENTS:
            root = folder.parent.parent.parent
            break
    (root / PREFECT_DIR).mkdir(parents=True, exist_ok=True)
    return root / PREFECT_DIR


def _locked(folder: Path, name: str) -> bool:
    """Return whether some process holds ``folder/name`` exclusively."""
    with open(folder / name, "a") as file:
        try:
            fcntl.flock(file, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
    return False


def running(folder: Path) -> dict | None:
    """Return ``server.json`` of ``folder`` while its supervisor runs (a copied one is not)."""
    try:
        state = json.loads((folder / "server.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return state if _locked(folder, "alive.lock") else None


@contextmanager
def project_server(root: Path, timeout_s: float = START_TIMEOUT_S) -> Iterator[str | None]:
    """Yield the project's server's API URL, started if needed and kept in use for the block.

    Yields ``None`` when no server answered within ``timeout_s`` (why: ``server.log``).
    """
    folder = server_folder(root)
    with open(folder / "in-use.lock", "a") as lease:
        fcntl.flock(lease, fcntl.LOCK_SH)  # released when the file closes
        with open(folder / "start.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            state = running(folder)
            if state is None or not healthy(state["api_url"]):
                state = _start(folder, timeout_s)
        yield None if state is None else state["api_url"]


def _start(folder: Path, timeout_s: float) -> dict | None:
    """Start a detached supervisor of a new server; return its record once the server answers."""
    stop(folder)  # a supervisor whose server stopped answering
    logger.info("starting the project's Prefect server (PREFECT_HOME=%s)", folder)
    with open(folder / "server.log", "ab") as log:
        subprocess.run(  # returns once the supervisor holds alive.lock and has detached
            [sys.executable, "-m", "pipelines.prefect_server", "supervise", str(folder)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            check=True,
        )
    deadline = time.monotonic() + timeout_s
    while _locked(folder, "alive.lock") and time.monotonic() < deadline:
        state = running(folder)
        if state is not None and healthy(state["api_url"]):
            logger.info("project Prefect server: %s", state["api_url"][: -len("/api")])
            return state
        time.sleep(0.2)
    logger.warning("the Prefect server did not start: see %s", folder / "server.log")
    return None


def stop(folder: Path, timeout_s: float = 30.0) -> bool:
    """Stop the server of ``folder`` now; return whether one ran."""
    state = running(folder)
    if state is None:
        return False
    with suppress(ProcessLookupError):
        os.kill(state["pid"], signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while _locked(folder, "alive.lock") and time.monotonic() < deadline:
        time.sleep(0.2)
    return True


def _die_with_parent() -> None:
    """In the server before exec: get SIGTERM when the supervisor dies, even by SIGKILL."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG


def supervise(folder: Path) -> int:
    """Run a server over ``folder`` (UI on), record it once it answers, stop it when idle.

    Returns 0 after an idle stop or a stop signal, 1 if the server did not start or died.
    """
    (folder / "server.json").unlink(missing_ok=True)  # a SIGKILLed supervisor's
    stopping: list[int] = []
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, lambda number, frame: stopping.append(number))
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env |= {"PREFECT_HOME": str(folder), "PREFECT_UI_API_URL": api_url}
    env |= {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_UI_ENABLED": "true"}
    server = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1"]
        + ["--port", str(port)],
        stdin=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
        preexec_fn=_die_with_parent if sys.platform == "linux" else None,
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while not healthy(api_url):
        if server.poll() is not None or time.monotonic() > deadline or stopping:
            logger.error("the Prefect server did not start (exit code %s)", server.poll())
            stop_process_group(server)
            return 1
        time.sleep(0.2)
    record = folder / "server.json.tmp"
    record.write_text(json.dumps({"api_url": api_url, "pid": os.getpid()}))
    record.replace(folder / "server.json")  # readers see all of it or none
    idle_s = float(os.environ.get(IDLE_ENV) or 600)
    logger.info("Prefect server %s ready; stops after %s s idle", api_url, idle_s)
    code, idle_since = 0, time.monotonic()
    with open(folder / "in-use.lock", "a") as lease:
        while not stopping:
            if server.poll() is not None:
                logger.error("the Prefect server exited with %s", server.returncode)
                code = 1
                break
            if not folder.is_dir():  # the project was deleted: nobody can reach it any more
                logger.info("%s is gone: stopping", folder)
                break
            try:
                fcntl.flock(lease, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                idle_since = time.monotonic()
            else:
                if time.monotonic() - idle_since >= idle_s:
                    logger.info("idle for %s s: stopping", idle_s)
                    break  # the lock stays held until the server is gone
                fcntl.flock(lease, fcntl.LOCK_UN)
            time.sleep(POLL_S)
        (folder / "server.json").unlink(missing_ok=True)
        stop_process_group(server)
    return code


def main(argv: list[str]) -> int:
    """``stop`` the project's server (``make prefect-stop``), or ``supervise`` one (detached)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if not argv or argv[0] not in ("stop", "supervise"):
        print(__doc__, file=sys.stderr)
        return 2
    folder = Path(argv[1]).resolve() if len(argv) > 1 else server_folder(Path.cwd())
    if argv[0] == "stop":
        print("stopped" if stop(folder) else "not running")
        return 0
    alive = open(folder / "alive.lock", "a")  # noqa: SIM115 (held until the supervisor exits)
    fcntl.flock(alive, fcntl.LOCK_EX)
    if os.fork() > 0:  # detach: the caller returns, the child keeps the lock
        os._exit(0)
    return supervise(folder)


if __name__ == "__main__":
    with suppress(KeyboardInterrupt):
        sys.exit(main(sys.argv[1:]))
