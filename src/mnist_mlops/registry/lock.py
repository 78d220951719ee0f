"""The promotion lock: one register at a time reads the champion, decides and moves aliases.

Two registers at once (two clones, two machines, queued ``dvc exp run`` workers) would both
read the same champion, both decide against it, and the last alias written would win: a lost
update, and a model card comparing with a champion that was no longer one. The lock is a
registered model named ``<model>.promotion-lock``: creating a registered model is atomic in
every MLflow store (a unique name), so it needs nothing but the tracking server everyone
already shares. It exists for the seconds of a promotion; one left by a killed process is
taken over once older than :data:`STALE_S`.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from mnist_mlops.errors import PromotionLockedError

if TYPE_CHECKING:
    from mlflow import MlflowClient

logger = logging.getLogger(__name__)

LOCK_SUFFIX = ".promotion-lock"
OWNER_TAG = "mnist_mlops.lock_owner"
WAIT_S = 300.0  # a register waits this long for the others' promotions
STALE_S = 600.0  # a lock older than this was left by a process that died
POLL_S = 0.5


def lock_name(model_name: str) -> str:
    """Return the registered model that is ``model_name``'s promotion lock."""
    return f"{model_name}{LOCK_SUFFIX}"


def _owner() -> str:
    return f"{socket.gethostname()} pid {os.getpid()}"


def _try_create(client: MlflowClient, name: str, owner: str) -> bool:
    """Create the lock; ``False`` when it exists already (someone else holds it)."""
    from mlflow.exceptions import MlflowException

    try:
        client.create_registered_model(
            name,
            tags={OWNER_TAG: owner},
            description=f"mnist-mlops register: promotion in progress ({owner}); "
            "deleted when it ends",
        )
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_ALREADY_EXISTS":
            return False
        raise
    return True


def _holder(client: MlflowClient, name: str) -> tuple[str, float] | None:
    """Return the lock's owner and age in seconds, or ``None`` when it is gone."""
    from mlflow.exceptions import MlflowException

    try:
        model = client.get_registered_model(name)
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise
    age = time.time() - model.creation_timestamp / 1000
    return (model.tags or {}).get(OWNER_TAG, "unknown"), age


def _delete(client: MlflowClient, name: str) -> None:
    from mlflow.exceptions import MlflowException

    try:
        client.delete_registered_model(name)
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise


@contextmanager
def promotion_lock(
    model_name: str, wait_s: float = WAIT_S, stale_s: float = STALE_S
) -> Iterator[None]:
    """Hold ``model_name``'s promotion lock for the block (see the module docstring).

    Args:
        model_name: The registered model whose aliases the block moves.
        wait_s: How long to wait for another holder.
        stale_s: The age after which a lock counts as left behind by a dead process.

    Raises:
        PromotionLockedError: Another register held the lock for all of ``wait_s``.
    """
    from mlflow import MlflowClient

    client, name, owner = MlflowClient(), lock_name(model_name), _owner()
    deadline = time.monotonic() + wait_s
    waited = False
    while not _try_create(client, name, owner):
        holder = _holder(client, name)
        if holder is not None and holder[1] > stale_s:
            logger.warning("taking over %s: left by %s %.0f s ago", name, *holder)
            _delete(client, name)
            continue
        if time.monotonic() > deadline:
            who = f"{holder[0]}, for {holder[1]:.0f} s" if holder else "someone"
            raise PromotionLockedError(
                f"the promotion of {model_name} is locked by {who}: another register is "
                f"running; if that process is gone, delete the registered model {name!r} "
                f"(it is taken over by itself after {stale_s:.0f} s)"
            )
        if not waited and holder is not None:
            logger.info("waiting for %s (held by %s)", name, holder[0])
            waited = True
        time.sleep(POLL_S)
    try:
        yield
    finally:
        _delete(client, name)
