"""A throw-away S3-compatible object store for tests: OpenStack Swift's s3api on loopback.

The server is ``tests/helpers/swift_s3_server.py``, run by Debian's ``/usr/bin/python3`` (the
only interpreter that can import ``python3-swift``), in a folder of the caller's choosing.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.helpers.servers import answers, started_process

SYSTEM_PYTHON = "/usr/bin/python3"
LAUNCHER = Path(__file__).with_name("swift_s3_server.py")
START_TIMEOUT_S = 60
READY_LINE = re.compile(r"^READY (http://127\.0\.0\.1:\d+)$", re.MULTILINE)
# Variables that would point Debian's interpreter at the venv's (or pyenv's) packages.
FOREIGN_PYTHON_VARIABLES = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")


@dataclass(frozen=True)
class S3Store:
    """Where a running S3-compatible store answers, and the credentials it accepts.

    Attributes:
        endpoint_url: The proxy's URL (path-style addressing: ``{endpoint_url}/{bucket}/{key}``).
        access_key: The S3 access key id (Swift's tempauth ``account:user``).
        secret_key: The S3 secret access key.
        region: The region the store signs for (s3api's ``location``).
    """

    endpoint_url: str
    access_key: str = "test:tester"
    secret_key: str = "testing"
    region: str = "us-east-1"

    def environment(self) -> dict[str, str]:
        """Return the variables that point boto3, MLflow and DVC at this store.

        ``mlflow server --artifacts-destination s3://...`` needs the two keys and
        ``MLFLOW_S3_ENDPOINT_URL``; boto3 and DVC's s3fs (a remote with no ``endpointurl``)
        follow ``AWS_ENDPOINT_URL_S3``. botocore's default checksums (CRC32 on uploads) work
        with Swift 2.30's s3api, so no ``AWS_*_CHECKSUM_*`` settings are needed.
        """
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL_S3": self.endpoint_url,
            "MLFLOW_S3_ENDPOINT_URL": self.endpoint_url,
        }

    def client(self, secret_key: str | None = None) -> Any:
        """Return a boto3 S3 client for this store (``secret_key`` overrides the right one)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=secret_key or self.secret_key,
            region_name=self.region,
            config=Config(s3={"addressing_style": "path"}),
        )

    def create_bucket(self, name: str) -> None:
        """Create the bucket ``name`` (at least 3 characters, DNS style)."""
        self.client().create_bucket(Bucket=name)


def swift_available() -> bool:
    """Return whether Debian's ``/usr/bin/python3`` can import swift (package python3-swift)."""
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        return False
    check = [SYSTEM_PYTHON, "-c", "import swift.common.middleware.s3api, eventlet, paste"]
    return subprocess.run(check, env=system_python_env(), capture_output=True).returncode == 0


def system_python_env() -> dict[str, str]:
    """This process's environment without what would steer Debian's interpreter elsewhere."""
    return {k: v for k, v in os.environ.items() if k not in FOREIGN_PYTHON_VARIABLES}


def answers_healthcheck(url: str) -> bool:
    """Return whether ``GET {url}/healthcheck`` answers 200 (Swift's proxy is up)."""
    return answers(f"{url}/healthcheck", timeout_s=5)


@contextmanager
def s3_server(folder: Path) -> Iterator[S3Store]:
    """Start Swift's S3 API with its data under ``folder``; yield it; stop it afterwards.

    The launcher binds ports the kernel picks and prints ``READY <url>``; the store is yielded
    once that URL answers its health check. On exit the process gets SIGTERM (SIGKILL after
    30 s), so nothing is left running.

    Raises:
        RuntimeError: Where ``/usr/bin/python3`` cannot import swift.
    """
    if not swift_available():
        raise RuntimeError(
            f"{SYSTEM_PYTHON} cannot import swift: apt-get install --no-install-recommends "
            "python3-swift (as .ci/run does), or deselect these tests with -m 'not s3'"
        )
    folder.mkdir(parents=True, exist_ok=True)
    log_path = folder / "swift.log"
    found: list[str] = []

    def ready() -> bool:
        if not found:
            found.extend(READY_LINE.findall(log_path.read_text(errors="replace")))
        return bool(found) and answers_healthcheck(found[0])

    command = [SYSTEM_PYTHON, str(LAUNCHER), str(folder / "swift")]
    with started_process(command, log_path, ready, system_python_env(), START_TIMEOUT_S):
        yield S3Store(endpoint_url=found[0])
