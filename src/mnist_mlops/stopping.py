"""Stop a long-running process cleanly: on SIGTERM, SIGHUP, SIGINT, and when its parent dies.

:func:`install` (called by every stage and ``mnist-mlops tune``) turns the signals into
:class:`Stopped`, a :class:`KeyboardInterrupt`: the code on the way out runs as for Ctrl-C
(MLflow runs end KILLED, worker processes are stopped, temporary folders are removed, and
outputs are only ever replaced whole, see :mod:`mnist_mlops.io`). Should that take more than
``grace_s`` seconds, the process exits anyway. A process whose parent dies (``kill`` of the
``dvc repro`` that runs a stage) stops itself as if it got SIGTERM, so no stage outlives it;
where a shell sits in between (DVC runs a stage's ``cmd`` with ``$SHELL -c``, and dash, unlike
bash, does not ``exec`` it), the process the shell runs it for counts as the parent.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from typing import NoReturn

from mnist_mlops.processes import Ancestor, child_pids, stage_ancestors

logger = logging.getLogger(__name__)

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
GRACE_S = 7.0
PARENT_POLL_S = 0.5


class Stopped(KeyboardInterrupt):
    """The process got a stop signal.

    Attributes:
        signum: The signal number.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum


def exit_code(error: BaseException) -> int:
    """Return the shell's code for a process stopped by ``error`` (128 + signal number).

    Any exception with an ``int`` attribute ``signum`` or ``signal`` counts (Prefect's
    ``TerminationSignal`` has ``signal``); other interruptions are SIGINT's 130.
    """
    for name in ("signum", "signal"):
        value = getattr(error, name, None)
        if isinstance(value, int):
            return 128 + value
    return 128 + signal.SIGINT


def stop_children(timeout_s: float = 3.0) -> None:
    """Terminate this process's children (multiprocessing's and any other, e.g. a server).

    Those still running after ``timeout_s`` are killed.
    """
    for child in multiprocessing.active_children():
        child.terminate()
    for pid in child_pids():
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while (left := child_pids()) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in left:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    multiprocessing.active_children()  # reaps the finished ones


def exit_now(code: int) -> NoReturn:
    """Flush the logs and standard streams and exit at once, skipping the interpreter's exit.

    After a stop, once the runs are closed and the children stopped: the exit handlers of
    Prefect (flushing logs to its API) and TensorFlow took seconds on a loaded machine.
    """
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with suppress(Exception):
            stream.flush()
    os._exit(code)


def _last_resort(
    signum: int, grace_s: float, cleanup: Callable[[], object] | None, done: threading.Event
) -> None:
    """After ``grace_s`` (unless ``done`` is set first), run ``cleanup`` and exit the process."""
    if done.wait(grace_s):
        return
    logger.error("still running %.0f s after %s: exiting now", grace_s, signal.Signals(signum).name)
    try:
        stop_children(timeout_s=1.0)
        if cleanup is not None:
            cleanup()
    finally:
        os._exit(128 + signum)


def _watch_ancestors(ancestors: list[Ancestor], done: threading.Event) -> None:
    """Send this process SIGTERM once its parent, or the process a shell runs it for, is gone."""
    parent = os.getppid()
    while os.getppid() == parent and all(ancestor.alive() for ancestor in ancestors):
        if done.wait(PARENT_POLL_S):
            return
    logger.warning("parent process %s is gone: stopping", " < ".join(map(str, ancestors)))
    os.kill(os.getpid(), signal.SIGTERM)


def install(
    grace_s: float = GRACE_S, cleanup: Callable[[], object] | None = None
) -> Callable[[], None]:
    """Turn SIGINT, SIGTERM and SIGHUP into :class:`Stopped`; stop when the parent dies.

    Only the first signal raises; later ones are ignored while the process cleans up, and
    ``grace_s`` seconds after the first the process runs ``cleanup`` and exits.

    Args:
        grace_s: Seconds the process has to stop after the first signal.
        cleanup: Run (in a helper thread) just before a forced exit.

    Returns:
        A function that undoes this (previous handlers back, no parent watch, no forced exit)
        for a command that runs inside a longer-lived process.
    """
    received: list[int] = []
    done = threading.Event()

    def handler(signum: int, frame: object) -> None:
        if received:
            return
        received.append(signum)
        threading.Thread(
            target=_last_resort,
            args=(signum, grace_s, cleanup, done),
            daemon=True,
            name="stop-grace",
        ).start()
        raise Stopped(signum)

    previous = {signum: signal.signal(signum, handler) for signum in SIGNALS}
    if os.getppid() > 1:
        threading.Thread(
            target=_watch_ancestors,
            args=(stage_ancestors(), done),
            daemon=True,
            name="parent-watch",
        ).start()

    def uninstall() -> None:
        done.set()
        for signum, old in previous.items():
            signal.signal(signum, old)

    return uninstall
