"""The promotion lock: a registered model ``<model>.promotion-lock``.

Why and how it is taken over: docs/decisions/promotion-lock.md.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NamedTuple

from mnist_mlops.errors import PromotionLockedError
from mnist_mlops.processes import process_alive
from mnist_mlops.tracking.owner import HOST_TAG, PID_TAG, STARTED_TAG, owner_tags

if TYPE_CHECKING:
    from mlflow import MlflowClient

logger = logging.getLogger(__name__)

LOCK_SUFFIX = ".promotion-lock"
OWNER_TAG = "mnist_mlops.lock_owner"
WAIT_S = 300.0  # a register waits this long for the others' promotions
STALE_S = 600.0  # a lock of another host older than this was left by a process that died
POLL_S = 0.5


def lock_name(model_name: str) -> str:
    """Return the registered model that is ``model_name``'s promotion lock."""
    return f"{model_name}{LOCK_SUFFIX}"


def _try_create(client: MlflowClient, name: str, owner: str) -> bool:
    """Create the lock; ``False`` when someone else holds it."""
    from mlflow.exceptions import MlflowException

    try:
        client.create_registered_model(
            name,
            tags={OWNER_TAG: owner} | owner_tags(),
            description=f"mnist-mlops register: promotion in progress ({owner}); "
            "deleted when it ends",
        )
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_ALREADY_EXISTS":
            return False
        raise
    return True


class Holder(NamedTuple):
    """Who holds a lock: owner text, age, whether a dead process of this host, creation."""

    owner: str
    age_s: float
    dead_here: bool
    created_ms: int


def _holder(client: MlflowClient, name: str) -> Holder | None:
    """Return the lock's holder, or ``None`` when the lock is gone."""
    from mlflow.exceptions import MlflowException

    try:
        model = client.get_registered_model(name)
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise
    tags, created = model.tags or {}, model.creation_timestamp
    owner = tags.get(OWNER_TAG, "unknown")
    return Holder(owner, time.time() - created / 1000, _dead_here(tags), created)


def _dead_here(tags: dict[str, str]) -> bool:
    """Whether the tags name a process of this host that no longer runs."""
    if tags.get(HOST_TAG) != socket.gethostname() or not tags.get(PID_TAG, "").isdigit():
        return False
    return not process_alive(int(tags[PID_TAG]), tags.get(STARTED_TAG))


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
    """Hold ``model_name``'s promotion lock for the block, waiting up to ``wait_s`` for it.

    A lock whose holder ran on this host and is gone is taken over at once; one of another
    host once older than ``stale_s``.

    Raises:
        PromotionLockedError: Another register held the lock for all of ``wait_s``.
    """
    from mlflow import MlflowClient

    client, name = MlflowClient(), lock_name(model_name)
    owner = f"{socket.gethostname()} pid {os.getpid()}"
    deadline = time.monotonic() + wait_s
    waited = False
    while not _try_create(client, name, owner):
        holder = _holder(client, name)
        if holder is not None and (holder.dead_here or holder.age_s > stale_s):
            why = "its process is gone" if holder.dead_here else f"{holder.age_s:.0f} s old"
            again = _holder(client, name)  # the same lock, not one another waiter took over
            if again is not None and again.created_ms == holder.created_ms:
                logger.warning("taking over %s: left by %s (%s)", name, holder.owner, why)
                _delete(client, name)
            continue
        if time.monotonic() > deadline:
            who = f"{holder.owner}, for {holder.age_s:.0f} s" if holder else "someone"
            raise PromotionLockedError(
                f"the promotion of {model_name} is locked by {who}: another register is "
                f"running; if that process is gone, delete the registered model {name!r} "
                f"(a lock of another host is taken over after {stale_s:.0f} s)"
            )
        if not waited and holder is not None:
            logger.info("waiting for %s (held by %s)", name, holder.owner)
            waited = True
        time.sleep(POLL_S)
    try:
        yield
    finally:
        _delete(client, name)
