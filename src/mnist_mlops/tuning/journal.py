"""Heartbeats for Optuna's journal file storage (Optuna has them only for RDB storages).

Each heartbeat is a trial system attribute ``heartbeat = {"host", "pid", "time"}``; when a
trial is stale: :meth:`HeartbeatJournalStorage.is_stale` (docs/decisions/tuning-workers.md).
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

from mnist_mlops.processes import process_alive

logger = logging.getLogger(__name__)

HEARTBEAT_ATTR = "heartbeat"
HOSTNAME = socket.gethostname()


class HeartbeatJournalStorage(JournalStorage, BaseHeartbeat):
    """A ``JournalStorage`` with Optuna's ``BaseHeartbeat`` interface.

    ``study.optimize`` sends heartbeats every ``heartbeat_interval`` s and fails stale trials
    (calling ``stale_trial_callback(study, trial)``); ``grace_period`` defaults to twice that.
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
        trials = self.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,))
        return [trial._trial_id for trial in trials if self.is_stale(trial, time.time())]

    def is_stale(self, trial: FrozenTrial, now: float) -> bool:
        """Return whether the RUNNING ``trial`` is stale at ``now``.

        Stale: its last heartbeat is older than the grace period, or came from a dead process
        of this host; or it has none and started more than the grace period ago.
        """
        beat: dict[str, Any] | None = trial.system_attrs.get(HEARTBEAT_ATTR)
        if beat is None:
            started = trial.datetime_start  # naive local time, as Optuna gives it
            return started is not None and now - started.timestamp() > self.grace_period
        if beat.get("host") == HOSTNAME and not process_alive(int(beat.get("pid", -1))):
            return True
        return now - float(beat.get("time", now)) > self.grace_period

    def get_heartbeat_interval(self) -> int | None:
        """Return the heartbeat interval in seconds."""
        return self.heartbeat_interval

    def get_heartbeat_stale_trial_callback(
        self,
    ) -> Callable[[optuna.Study, FrozenTrial], None] | None:
        """Return the callback run for every trial failed as stale."""
        return self.stale_trial_callback
