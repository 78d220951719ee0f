"""Checks of locks: a lock that blocks until released, callables run at once in threads."""

from __future__ import annotations

import threading
from collections.abc import Callable

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


def at_once(job: Callable[[], object], count: int, timeout_s: float = 120) -> list[object]:
    """Run ``job`` in ``count`` threads released together; return each result or exception."""
    start = threading.Barrier(count)
    results: list[object] = []

    def run() -> None:
        start.wait()
        try:
            results.append(job())
        except Exception as exc:  # returned to the caller, who asserts on it
            results.append(exc)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout_s)
    return results
