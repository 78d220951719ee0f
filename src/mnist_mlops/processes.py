"""The process tree through psutil: children, group members, the watched parents.

Used by :mod:`mnist_mlops.stopping` (stop the children, notice a dead parent), by the sweep
of dead runs and the promotion lock (is the process that wrote a tag still alive?) and by the
shared Prefect server's wrapper (the members of its process group). A process is identified
by its pid *and* start time, so a reused pid does not pass for the old process; zombies count
as gone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import psutil

# Shells that run a command for its parent (``$SHELL -c cmd``, as DVC runs a stage): bash and
# zsh ``exec`` a lone command, dash and others stay in between, waiting for it.
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
    """Return the start time of process ``pid`` (seconds since the epoch, as text).

    Args:
        pid: A process id of this host.

    Returns:
        The start time, the same text on every call for the same process; ``None`` when no
        such process runs (gone, or a zombie).
    """
    try:
        process = psutil.Process(pid)
        return f"{process.create_time():.2f}" if _running(process) else None
    except GONE:
        return None


def process_alive(pid: int, started: str | None = None) -> bool:
    """Return whether process ``pid`` runs on this host (and, when given, started at ``started``).

    Args:
        pid: A process id of this host.
        started: Its start time as :func:`process_started` gave it; ``None``: any start time.
    """
    now = process_started(pid)
    return now is not None and (started is None or now == started)


def running_processes(*, parent: int | None = None, group: int | None = None) -> list[int]:
    """Return the running processes (zombies do not count) with this parent or process group.

    Args:
        parent: Keep the children of this pid.
        group: Keep the members of this process group.

    Returns:
        Their pids.
    """
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
    """Return this process's parent and, through any shells in between, the first non-shell.

    ``dvc repro`` runs a stage as ``$SHELL -c 'python -m pipelines.train'``: with dash the
    shell stays as the stage's parent and outlives a killed ``dvc``, so the stage also watches
    ``dvc`` itself.
    """
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
