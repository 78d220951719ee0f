"""Heartbeats for Optuna's journal file storage (Optuna 5 has them only for RDB storages).

:class:`HeartbeatJournalStorage` is a ``JournalStorage`` that also implements Optuna's
``BaseHeartbeat`` interface, so ``study.optimize`` runs its heartbeat thread and fails stale
trials exactly as it does for ``RDBStorage``. Each heartbeat is a trial system attribute
``heartbeat = {"host", "pid", "time"}``. A RUNNING trial is stale when its last heartbeat is
older than the grace period, or at once when it was written on this host by a process that no
longer exists (a worker killed with ``kill -9``).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from typing import Any

import optuna
from optuna.storages import JournalStorage
from optuna.storages._heartbeat import BaseHeartbeat
from optuna.storages.journal import BaseJournalBackend
from optuna.trial import FrozenTrial, TrialState

logger = logging.getLogger(__name__)

HEARTBEAT_ATTR = "heartbeat"
HOSTNAME = socket.gethostname()


def process_alive(pid: int) -> bool:
    """Return whether a process with this id exists on this host (zombies count as dead)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


class HeartbeatJournalStorage(JournalStorage, BaseHeartbeat):
    """A journal storage whose running trials send heartbeats and can be found stale.

    Args:
        backend: The journal backend (e.g. ``JournalFileBackend``).
        heartbeat_interval: Seconds between two heartbeats of a running trial.
        grace_period: Seconds without a heartbeat after which a trial is stale
            (default ``2 * heartbeat_interval``).
        stale_trial_callback: Called with ``(study, trial)`` for each trial failed as stale.
    """

    def __init__(
        self,
        backend: BaseJournalBackend,
        heartbeat_interval: int = 10,
        grace_period: int | None = None,
        stale_trial_callback: Callable[[optuna.Study, FrozenTrial], None] | None = None,
    ) -> None:
        super().__init__(backend)
        if heartbeat_interval <= 0:
            raise ValueError(f"heartbeat_interval must be > 0, got {heartbeat_interval}")
        self.heartbeat_interval = heartbeat_interval
        self.grace_period = grace_period or 2 * heartbeat_interval
        self.stale_trial_callback = stale_trial_callback

    def record_heartbeat(self, trial_id: int) -> None:
        """Write ``{"host", "pid", "time"}`` into the trial's system attributes."""
        beat: dict[str, Any] = {"host": HOSTNAME, "pid": os.getpid(), "time": time.time()}
        try:
            self.set_trial_system_attr(trial_id, HEARTBEAT_ATTR, beat)
        except optuna.exceptions.UpdateFinishedTrialError:
            logger.warning("trial %d was finished by another process (marked stale?)", trial_id)

    def _get_stale_trial_ids(self, study_id: int) -> list[int]:
        now = time.time()
        stale = []
        for trial in self.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,)):
            beat: dict[str, Any] | None = trial.system_attrs.get(HEARTBEAT_ATTR)
            if beat is None:
                continue
            dead = beat.get("host") == HOSTNAME and not process_alive(int(beat.get("pid", -1)))
            if dead or now - float(beat.get("time", now)) > self.grace_period:
                stale.append(trial._trial_id)
        return stale

    def get_heartbeat_interval(self) -> int | None:
        """Return the heartbeat interval in seconds."""
        return self.heartbeat_interval

    def get_heartbeat_stale_trial_callback(
        self,
    ) -> Callable[[optuna.Study, FrozenTrial], None] | None:
        """Return the callback run for every trial failed as stale."""
        return self.stale_trial_callback
