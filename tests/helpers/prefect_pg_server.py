"""A long-running ``prefect server start`` on PostgreSQL: the server machines would share."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipelines.prefect_server import free_port, healthy
from sqlalchemy.engine import make_url

from tests.helpers.servers import started_process

START_TIMEOUT_S = 180.0


def asyncpg_url(database_url: str) -> str:
    """The same database for Prefect's server, which speaks asyncpg (``postgresql+asyncpg``)."""
    url = make_url(database_url).set(drivername="postgresql+asyncpg")
    return url.render_as_string(hide_password=False)


@contextmanager
def prefect_server_on(database_url: str, folder: Path) -> Iterator[str]:
    """Run Prefect's server over ``database_url`` (PREFECT_HOME in ``folder``); yield its API.

    The services (scheduler, late-run marking, ...) run too, as on a real shared server.
    """
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
    env |= {
        "PREFECT_HOME": str(folder / "prefect-home"),
        "PREFECT_API_DATABASE_CONNECTION_URL": asyncpg_url(database_url),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_API_URL": api_url,
    }
    command = [sys.executable, "-m", "prefect", "server", "start"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    log = folder / "prefect-server.log"
    with started_process(command, log, lambda: healthy(api_url), env, START_TIMEOUT_S):
        yield api_url
