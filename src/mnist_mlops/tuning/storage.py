"""Where studies live (a journal file, or a database URL), opened with heartbeats and retries."""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import optuna
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial, TrialState
from sqlalchemy.exc import IntegrityError, ProgrammingError

from mnist_mlops.config.paths import ProjectPaths
from mnist_mlops.errors import TuneError
from mnist_mlops.tuning.journal import HEARTBEAT_ATTR, HeartbeatJournalStorage
from mnist_mlops.tuning.study import DURATION_ATTR
from mnist_mlops.tuning.trial_runs import RUN_ID_ATTR

logger = logging.getLogger(__name__)

STORAGE_ENV = "MNIST_MLOPS_OPTUNA_STORAGE"
HEARTBEAT_INTERVAL_S = 10
GRACE_PERIOD_S = 30
MAX_RETRY = 3
SCHEMA_ATTEMPTS = 3  # opening an empty database that other workers are creating too
# attributes that belong to one attempt and must not be copied into its retry
ATTEMPT_ATTRS = (HEARTBEAT_ATTR, RUN_ID_ATTR, "worker", DURATION_ATTR)


def resolve_storage(configured: str | None, root: Path) -> str:
    """Return the database URL or absolute journal path to use.

    ``$MNIST_MLOPS_OPTUNA_STORAGE``, else ``configured`` (``tune.storage`` or ``--storage``),
    else ``optuna.journal`` in ``root``. A value with ``://`` is a database URL; anything else
    a journal path relative to ``root`` (an optional ``journal:`` prefix is dropped).
    """
    value = os.environ.get(STORAGE_ENV) or configured
    if not value:
        return str(ProjectPaths(root).optuna_journal)
    if is_database(value):
        return value
    journal = Path(value.removeprefix("journal:")).expanduser()
    return str((ProjectPaths(root).root / journal).resolve())


def is_database(storage: str) -> bool:
    """Return whether ``storage`` is a database URL (not a journal file)."""
    return "://" in storage


class RetryStaleTrial:
    """Queue the parameters of a trial failed as stale again (at most ``max_retry`` times).

    Optuna's ``RetryFailedTrialCallback`` without copying the dead attempt's attributes
    (heartbeat, MLflow run); ``on_stale(trial)`` runs first.
    """

    def __init__(
        self, max_retry: int = MAX_RETRY, on_stale: Callable[[FrozenTrial], None] | None = None
    ) -> None:
        self.max_retry = max_retry
        self.on_stale = on_stale

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        """Handle one trial that was just failed as stale."""
        logger.warning("trial %d: its worker stopped (no heartbeat); marked FAIL", trial.number)
        if self.on_stale is not None:
            self.on_stale(trial)
        history = [*trial.system_attrs.get("retry_history", []), trial.number]
        if len(history) > self.max_retry:
            logger.warning(
                "trial %d: not retried (%d retries already)", trial.number, self.max_retry
            )
            return
        system_attrs = {
            key: value for key, value in trial.system_attrs.items() if key not in ATTEMPT_ATTRS
        }
        system_attrs |= {"failed_trial": history[0], "retry_history": history}
        user_attrs = {k: v for k, v in trial.user_attrs.items() if k not in ATTEMPT_ATTRS}
        study.add_trial(
            optuna.create_trial(
                state=TrialState.WAITING,
                params=trial.params,
                distributions=trial.distributions,
                user_attrs=user_attrs,
                system_attrs=system_attrs,
            )
        )
        logger.info("trial %d: parameters queued again %s", trial.number, trial.params)


def open_storage(
    storage: str,
    on_stale: Callable[[FrozenTrial], None] | None = None,
    heartbeat_interval: int = HEARTBEAT_INTERVAL_S,
    grace_period: int = GRACE_PERIOD_S,
) -> BaseStorage:
    """Open ``storage`` (from :func:`resolve_storage`) with heartbeats and :class:`RetryStaleTrial`.

    Raises:
        TuneError: The database cannot be reached or its driver is missing.
    """
    retry = RetryStaleTrial(on_stale=on_stale)
    if not is_database(storage):
        from optuna.storages.journal import JournalFileBackend

        path = Path(storage)
        path.parent.mkdir(parents=True, exist_ok=True)
        # the default (symlink) lock: the one the optuna CLI and optuna-dashboard also take
        backend = JournalFileBackend(str(path))
        return HeartbeatJournalStorage(backend, heartbeat_interval, grace_period, retry)
    engine_kwargs = {"connect_args": {"timeout": 60}} if storage.startswith("sqlite") else {}
    try:
        for attempt in range(SCHEMA_ATTEMPTS):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                    return optuna.storages.RDBStorage(
                        storage,
                        engine_kwargs=engine_kwargs,
                        heartbeat_interval=heartbeat_interval,
                        grace_period=grace_period,
                        heartbeat_stale_trial_callback=retry,
                    )
            except (IntegrityError, ProgrammingError):
                # another worker created the tables at the same moment: open it again
                if attempt == SCHEMA_ATTEMPTS - 1:
                    raise
                logger.info("storage %s: schema created by another worker; again", _redact(storage))
                time.sleep(0.2 * (attempt + 1))
        raise AssertionError("unreachable")
    except ImportError as exc:
        raise TuneError(
            f"storage {_redact(storage)}: the database driver is not installed ({exc}); "
            "for PostgreSQL install psycopg2-binary (pip install -e '.[postgres]')"
        ) from None
    except Exception as exc:  # sqlalchemy errors: bad URL, unreachable server, auth
        raise TuneError(f"storage {_redact(storage)} cannot be opened: {exc}") from None


def _redact(url: str) -> str:
    """Hide the password of a database URL."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1]
