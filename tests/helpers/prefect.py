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


def api(url: str, path: str, body: dict | None = None) -> object:
    """``POST`` ``body`` (``GET`` without one) to ``url + path``; the parsed JSON answer."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url + path, data=data, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        raise AssertionError(f"{url}{path}: {error.code} {error.read()[:2000]!r}") from error


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout_s} s: {what}"
        time.sleep(0.2)
