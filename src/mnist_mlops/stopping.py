"""Stop a long-running process cleanly: on SIGTERM, SIGHUP, SIGINT, and when its parent dies.

See docs/decisions/stopping-stages.md.
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
    """The process got the stop signal ``signum``."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum


def exit_code(error: BaseException) -> int:
    """Return 128 + ``error``'s int ``signum`` or ``signal`` attribute, else 130 (SIGINT)."""
    for name in ("signum", "signal"):
        value = getattr(error, name, None)
        if isinstance(value, int):
            return 128 + value
    return 128 + signal.SIGINT


def stop_children(timeout_s: float = 3.0) -> None:
    """Terminate this process's children; kill those still running after ``timeout_s``."""
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
    """Flush the logs and standard streams and exit with ``code``, skipping exit handlers."""
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


def _in_background(name: str, target: Callable[..., None], *args: object) -> None:
    threading.Thread(target=target, args=args, daemon=True, name=name).start()


def install(
    grace_s: float = GRACE_S, cleanup: Callable[[], object] | None = None
) -> Callable[[], None]:
    """Turn SIGINT, SIGTERM and SIGHUP into :class:`Stopped`; SIGTERM itself when the parent dies.

    Only the first signal raises. ``grace_s`` after it, ``cleanup`` runs and the process exits.
    Returns a function that undoes this.
    """
    received: list[int] = []
    done = threading.Event()

    def handler(signum: int, frame: object) -> None:
        if received:
            return
        received.append(signum)
        _in_background("stop-grace", _last_resort, signum, grace_s, cleanup, done)
        raise Stopped(signum)

    previous = {signum: signal.signal(signum, handler) for signum in SIGNALS}
    if os.getppid() > 1:
        _in_background("parent-watch", _watch_ancestors, stage_ancestors(), done)

    def uninstall() -> None:
        done.set()
        for signum, old in previous.items():
            signal.signal(signum, old)

    return uninstall
