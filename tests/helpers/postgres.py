"""A throw-away PostgreSQL server for tests: initdb + pg_ctl on a free loopback port."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipelines.prefect_server import free_port

from tests.helpers.scratch import RAM_FOLDER


def postgres_bin() -> Path | None:
    """Return the folder of Debian's PostgreSQL binaries (newest version), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a server in a temp dir; yield its URL; stop it and delete everything.

    PostgreSQL refuses to run as root, so as root the commands run as the ``postgres`` user
    (created by Debian's package) in a folder that user owns.
    """
    bin_dir = postgres_bin()
    if bin_dir is None:
        raise RuntimeError(
            "PostgreSQL binaries not found: apt-get install postgresql (as .ci/run does), "
            "or deselect these tests with -m 'not postgres'"
        )
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    # not under TMPDIR: the tests' scratch folder (tests/helpers/scratch.py) is private to
    # this user, and the postgres user must reach its data folder
    shared = next((str(d) for d in (RAM_FOLDER, Path("/tmp")) if d.is_dir()), None)
    folder = Path(tempfile.mkdtemp(prefix="mnist-mlops-pg-", dir=shared))
    data = folder / "data"
    if as_user:
        shutil.chown(folder, "postgres", "postgres")
    port = free_port()

    def run(*command: str) -> None:
        subprocess.run([*as_user, *command], check=True, capture_output=True, timeout=120)

    run(str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    pg_ctl = str(bin_dir / "pg_ctl")
    run(pg_ctl, "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start")
    try:
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/postgres"
    finally:
        run(pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def create_database(server_url: str, name: str) -> str:
    """Create the database ``name`` on the server of ``server_url``; return its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)
