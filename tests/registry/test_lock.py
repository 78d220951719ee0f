"""The promotion lock: registers that run at once take turns (a real MLflow registry)."""

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from mlflow import MlflowClient

from mnist_mlops.errors import PromotionLockedError
from mnist_mlops.registry.lock import OWNER_TAG, lock_name, promotion_lock
from mnist_mlops.tracking.owner import HOST_TAG, PID_TAG, STARTED_TAG
from tests.helpers.locks import at_once
from tests.helpers.models import use_test_store

NAME = "mnist-classifier"


@pytest.fixture(autouse=True)
def store():
    use_test_store()


def registered_names() -> set[str]:
    return {model.name for model in MlflowClient().search_registered_models()}


def test_the_lock_exists_only_while_held_and_names_its_owner():
    with promotion_lock(NAME):
        lock = MlflowClient().get_registered_model(lock_name(NAME))
        assert "pid" in lock.tags[OWNER_TAG] and "promotion in progress" in lock.description
    assert lock_name(NAME) not in registered_names()


def test_it_is_released_when_the_block_fails():
    with pytest.raises(RuntimeError, match="boom"), promotion_lock(NAME):
        raise RuntimeError("boom")
    assert lock_name(NAME) not in registered_names()


def test_a_held_lock_makes_the_next_register_wait_then_fail_clearly():
    # a holder on another host: whether its process lives cannot be seen from here
    tags = {OWNER_TAG: "host-a pid 7", HOST_TAG: f"not-{socket.gethostname()}", PID_TAG: "7"}
    MlflowClient().create_registered_model(lock_name(NAME), tags=tags | {STARTED_TAG: "1.00"})
    start = time.monotonic()
    with pytest.raises(PromotionLockedError) as raised, promotion_lock(NAME, wait_s=1.0):
        pytest.fail("the lock was taken although another holder had it")
    assert time.monotonic() - start >= 1.0
    message = str(raised.value)
    assert "host-a pid 7" in message and repr(lock_name(NAME)) in message
    assert lock_name(NAME) in registered_names()  # the holder's lock is not touched


def test_a_lock_left_by_a_dead_process_is_taken_over():
    MlflowClient().create_registered_model(lock_name(NAME), tags={OWNER_TAG: "gone"})
    time.sleep(0.2)
    with promotion_lock(NAME, wait_s=5.0, stale_s=0.1):
        owner = MlflowClient().get_registered_model(lock_name(NAME)).tags[OWNER_TAG]
        assert owner != "gone"
    assert lock_name(NAME) not in registered_names()


def test_read_modify_write_under_the_lock_loses_no_update():
    """Two threads read a counter, wait, write it + 1: with the lock both increments stay."""
    client = MlflowClient()
    client.create_registered_model(NAME, tags={"count": "0"})

    def increment() -> None:
        with promotion_lock(NAME, wait_s=30):
            count = int(client.get_registered_model(NAME).tags["count"])
            time.sleep(0.5)  # the other register reads meanwhile, without the lock
            client.set_registered_model_tag(NAME, "count", str(count + 1))

    assert at_once(increment, 2) == [None, None]
    assert client.get_registered_model(NAME).tags["count"] == "2"


HOLD = """
import sys, time
from mnist_mlops.registry.lock import promotion_lock
with promotion_lock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(600)
"""


def test_a_lock_whose_holder_was_killed_on_this_host_is_taken_over_at_once():
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, NAME], stdout=subprocess.PIPE, text=True
    )  # the test's store: MLFLOW_TRACKING_URI is inherited
    try:
        assert holder.stdout.readline() == "held\n"
    finally:
        os.kill(holder.pid, signal.SIGKILL)  # kill -9: its lock stays behind
        holder.wait()
    assert lock_name(NAME) in registered_names()
    start = time.monotonic()
    with promotion_lock(NAME, wait_s=60):
        owner = MlflowClient().get_registered_model(lock_name(NAME)).tags[PID_TAG]
    assert time.monotonic() - start < 30  # at once, not after a wait for the dead holder
    assert owner == str(os.getpid())
