"""The study's budget lock: one worker at a time counts the trials and starts one."""

import threading
import time

import pytest

from mnist_mlops.tuning.budget import BudgetLock, lock_key
from tests.helpers.locks import blocks_until_released


def test_a_journal_study_lets_one_worker_count_at_a_time(tmp_path):
    journal = tmp_path / "optuna.journal"
    blocks_until_released(BudgetLock(str(journal), "s"), BudgetLock(str(journal), "s"))
    assert journal.read_bytes() == b""  # the lock never writes into the journal


def test_release_twice_and_close_are_harmless(tmp_path):
    lock = BudgetLock(str(tmp_path / "j"), "s")
    lock.release()
    with lock:
        pass
    lock.release()
    lock.close()
    with BudgetLock(str(tmp_path / "j"), "s"):  # free again
        pass


def test_each_study_has_its_own_64_bit_key():
    keys = {lock_key(f"study-{n}") for n in range(1000)}
    assert len(keys) == 1000
    assert all(-(2**63) <= key < 2**63 for key in keys)
    assert lock_key("a") == lock_key("a")


@pytest.mark.parametrize("held_s", [0.2])
def test_the_lock_is_held_only_until_released(tmp_path, held_s):
    first, second = BudgetLock(str(tmp_path / "j"), "s"), BudgetLock(str(tmp_path / "j"), "s")
    first.acquire()
    timer = threading.Timer(held_s, first.release)
    start = time.monotonic()
    timer.start()
    second.acquire()
    waited = time.monotonic() - start
    second.release()
    assert waited >= held_s * 0.9
