"""For tests of the project's Prefect server: its environment, its REST API, waiting on it."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable

from tests.helpers.workspace import REPO_ROOT


def environment(**extra: str) -> dict[str, str]:
    """This checkout's code, no ``PREFECT_API_URL`` (the project's server is used), ``extra``."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PYTHONPATH"] = str(REPO_ROOT)
    return env | extra


RETRIES = 5  # 503 answers retried (the server's SQLite was busy), as Prefect's own client does


def api(url: str, path: str, body: dict | None = None) -> object:
    """``POST`` ``body`` (``GET`` without one) to ``url + path``; the parsed JSON answer.

    A 503 (Prefect's answer when its SQLite database is locked by its own services, seen
    under load) is retried up to :data:`RETRIES` times, 0.5 s apart, as Prefect's client does.
    """
    data = None if body is None else json.dumps(body).encode()
    for attempt in range(RETRIES + 1):
        request = urllib.request.Request(
            url + path, data=data, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            if error.code != 503 or attempt == RETRIES:
                raise AssertionError(
                    f"{url}{path}: {error.code} {error.read()[:2000]!r}"
                ) from error
            time.sleep(0.5)
    raise AssertionError("unreachable")


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout_s} s: {what}"
        time.sleep(0.2)
