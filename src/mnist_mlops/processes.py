"""The process tree as Linux ``/proc`` shows it: children, group members, the watched parents.

Used by :mod:`mnist_mlops.stopping` (stop the children, notice a dead parent) and by the
shared Prefect server's wrapper (the members of its process group). Off Linux there is no
``/proc``: the functions answer "none found" and a parent is only watched by its pid.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
# Shells that run a command for its parent (``$SHELL -c cmd``, as DVC runs a stage): bash and
# zsh ``exec`` a lone command, dash and others stay in between, waiting for it.
SHELLS = frozenset({"sh", "dash", "bash", "zsh", "ksh", "mksh", "ash", "busybox", "fish"})


@dataclass(frozen=True)
class ProcessStat:
    """What ``/proc/<pid>/stat`` says of a process that runs (a zombie does not count)."""

    pid: int
    name: str
    parent: int
    group: int
    started: str


def process_stat(pid: int) -> ProcessStat | None:
    """Return the ``/proc`` entry of a running process; ``None`` if it is gone or a zombie."""
    try:
        stat = (PROC / str(pid) / "stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # the command name (field 2) is in parentheses and may hold spaces: split around it
    head, _, tail = stat.rpartition(")")
    fields = tail.split()
    if len(fields) < 20 or fields[0] in ("Z", "X"):
        return None
    name = head.partition("(")[2]
    return ProcessStat(pid, name, int(fields[1]), int(fields[2]), fields[19])


def process_started(pid: int) -> str | None:
    """Return the start time of process ``pid`` (clock ticks since boot), ``None`` if gone.

    Off Linux (no ``/proc``) the value is ``"?"`` for a live process: only the pid is checked.
    """
    if PROC.is_dir():
        stat = process_stat(pid)
        return None if stat is None else stat.started
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return "?"


def running_processes(*, parent: int | None = None, group: int | None = None) -> list[int] | None:
    """Return the running processes (zombies do not count) with this parent or process group.

    Args:
        parent: Keep the children of this pid.
        group: Keep the members of this process group.

    Returns:
        Their pids, from Linux ``/proc``; ``None`` where there is no ``/proc``.
    """
    if not PROC.is_dir():
        return None
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit() or (stat := process_stat(int(entry.name))) is None:
            continue
        if (parent is None or stat.parent == parent) and (group is None or stat.group == group):
            found.append(stat.pid)
    return found


def child_pids() -> list[int]:
    """Return this process's child processes that still run (Linux ``/proc``; else none)."""
    return running_processes(parent=os.getpid()) or []


@dataclass(frozen=True)
class Ancestor:
    """A process this one watches: gone once its pid is free or reused (another start time)."""

    pid: int
    name: str
    started: str

    def alive(self) -> bool:
        """Return whether the process still runs (the same one: same start time)."""
        return process_started(self.pid) == self.started

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
        stat = process_stat(pid)
        if stat is None:
            if not PROC.is_dir() and (started := process_started(pid)) is not None:
                ancestors.append(Ancestor(pid, "", started))  # no /proc: the pid alone
            break
        ancestors.append(Ancestor(pid, stat.name, stat.started))
        if stat.name not in SHELLS:
            break
        pid = stat.parent
    return ancestors
