"""A real ``mlflow server`` process on a free loopback port (tracking + proxied artifacts)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipelines.prefect_server import free_port, healthy

from tests.helpers.servers import started_process

START_TIMEOUT_S = 120.0


@contextmanager
def mlflow_server(folder: Path) -> Iterator[str]:
    """Run ``mlflow server`` over a SQLite store in ``folder``; yield its ``http://`` URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--backend-store-uri",
        f"sqlite:///{folder / 'server.db'}",
        "--artifacts-destination",
        str(folder / "server-artifacts"),
    ]
    env = {key: value for key, value in os.environ.items() if key != "MLFLOW_TRACKING_URI"}
    # tracking and artifacts only: no job runner (it would start ~8 consumer processes)
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    log_path = folder / "mlflow-server.log"
    with started_process(command, log_path, lambda: healthy(url), env, START_TIMEOUT_S):
        yield url
