"""Processes through psutil, identified by pid *and* start time (zombies count as gone)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import psutil

# shells that may stay between a stage and the ``dvc`` running it (stopping-stages.md)
SHELLS = frozenset({"sh", "dash", "bash", "zsh", "ksh", "mksh", "ash", "busybox", "fish"})
GONE = (psutil.NoSuchProcess, psutil.ZombieProcess)


def _running(process: psutil.Process) -> bool:
    """Return whether ``process`` runs (a zombie does not)."""
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except GONE:
        return False
    except psutil.AccessDenied:  # another user's process: it exists
        return True


def process_started(pid: int) -> str | None:
    """Return the start time of process ``pid`` of this host as text, ``None`` when not running.

    The same process always gives the same text.
    """
    try:
        process = psutil.Process(pid)
        return f"{process.create_time():.2f}" if _running(process) else None
    except GONE:
        return None


def process_alive(pid: int, started: str | None = None) -> bool:
    """Return whether process ``pid`` runs on this host (and started at ``started``, if given)."""
    now = process_started(pid)
    return now is not None and (started is None or now == started)


def running_processes(*, parent: int | None = None, group: int | None = None) -> list[int]:
    """Return the pids of running processes with this ``parent`` and / or process ``group``."""
    found = []
    for process in psutil.process_iter(["ppid", "status"]):
        if process.info["status"] in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
            continue
        try:
            in_group = group is None or os.getpgid(process.pid) == group
        except ProcessLookupError:
            continue
        if (parent is None or process.info["ppid"] == parent) and in_group:
            found.append(process.pid)
    return found


def child_pids() -> list[int]:
    """Return this process's child processes that still run."""
    return running_processes(parent=os.getpid())


@dataclass(frozen=True)
class Ancestor:
    """A process this one watches: gone once its pid is free or reused (another start time)."""

    pid: int
    name: str
    started: str

    def alive(self) -> bool:
        """Return whether the process still runs (the same one: same start time)."""
        return process_alive(self.pid, self.started)

    def __str__(self) -> str:
        return f"{self.pid} ({self.name})" if self.name else str(self.pid)


def stage_ancestors() -> list[Ancestor]:
    """Return this process's parent and, through any shells in between, the first non-shell."""
    pid = os.getppid()
    ancestors: list[Ancestor] = []
    while pid > 1:
        try:
            process = psutil.Process(pid)
            name, parent = process.name(), process.ppid()
        except GONE:
            break
        started = process_started(pid)
        if started is None:
            break
        ancestors.append(Ancestor(pid, name, started))
        if name not in SHELLS:
            break
        pid = parent
    return ancestors
