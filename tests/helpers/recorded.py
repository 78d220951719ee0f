"""Requests to a real server and the rows its prediction store holds."""

from __future__ import annotations

import json
import sqlite3
import time
import urllib.error
import urllib.request
from pathlib import Path


def call(url: str, body=None, content_type: str = "application/json", page: bool = False):
    """``(status, decoded JSON answer)`` of a request (``page``: sent as the page sends it)."""
    data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": content_type} | ({"X-Prediction-Source": "page"} if page else {})
    request = urllib.request.Request(url, data, headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def written(url: str) -> dict:
    """The server's counts once its queue is empty (within 30 s)."""
    deadline = time.monotonic() + 30
    while (counts := call(f"{url}/feedback")[1])["queued"] and time.monotonic() < deadline:
        time.sleep(0.1)
    return counts


def stored_rows(db: Path) -> dict[str, dict]:
    with sqlite3.connect(db) as connection:
        connection.row_factory = sqlite3.Row
        return {
            row["prediction_id"]: dict(row)
            for row in connection.execute("SELECT * FROM predictions")
        }
