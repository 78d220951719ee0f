"""Checks of inter-process locks (the study's budget lock)."""

from __future__ import annotations

import threading

from mnist_mlops.tuning.budget import BudgetLock


def blocks_until_released(first: BudgetLock, second: BudgetLock) -> None:
    """Assert that ``second`` waits while ``first`` holds the lock, and gets it after."""
    first.acquire()
    got = threading.Event()

    def take() -> None:
        second.acquire()
        got.set()

    waiter = threading.Thread(target=take, daemon=True)
    waiter.start()
    try:
        assert not got.wait(0.5), "a second worker took the lock that the first one holds"
    finally:
        first.release()
    assert got.wait(10), "the lock was not handed over after its release"
    waiter.join(5)
    second.release()
