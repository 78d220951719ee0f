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
def mlflow_server(
    folder: Path,
    backend_store_uri: str | None = None,
    artifacts_destination: str | None = None,
    extra_env: dict[str, str] | None = None,
) -> Iterator[str]:
    """Run ``mlflow server``; yield its ``http://`` URL.

    Args:
        folder: Its log (and, by default, its SQLite store and artifacts).
        backend_store_uri: The tracking store (default: a SQLite file in ``folder``).
        artifacts_destination: Where the proxied artifacts go (default: ``folder``).
        extra_env: More environment (an S3 store's endpoint and keys).
    """
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
        backend_store_uri or f"sqlite:///{folder / 'server.db'}",
        "--artifacts-destination",
        artifacts_destination or str(folder / "server-artifacts"),
    ]
    env = {key: value for key, value in os.environ.items() if key != "MLFLOW_TRACKING_URI"}
    # tracking and artifacts only: no job runner (it would start ~8 consumer processes)
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    env.update(extra_env or {})
    log_path = folder / "mlflow-server.log"
    with started_process(command, log_path, lambda: healthy(url), env, START_TIMEOUT_S):
        yield url
