"""Real model servers on loopback: a registered champion and a server process answering /ping."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

NAME = "mnist-classifier"
MODEL_URI = f"models:/{NAME}@champion"
START_TIMEOUT_S = 180


def register_champion(train, **fit) -> str:
    """Log a tiny classifier fitted on ``train``, register it as ``NAME@champion``.

    ``fit`` goes to :func:`~tests.helpers.models.tiny_model` (``epochs``, ``hidden``).

    Returns:
        The registered version.
    """
    import mlflow
    from mlflow import MlflowClient

    from mnist_mlops.serving.runtime.pyfunc import log_classifier
    from tests.helpers.models import tiny_model, use_test_store

    use_test_store()
    with mlflow.start_run():
        info = log_classifier(tiny_model(train, **fit), registered_model_name=NAME)
    version = str(info.registered_model_version)
    MlflowClient().set_registered_model_alias(NAME, "champion", version)
    return version


def venv_path() -> str:
    """``PATH`` with this interpreter's scripts first (`mlflow models serve` execs uvicorn)."""
    return f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"


def guarded_command(port: int, *options: str) -> list[str]:
    """The ``mnist-mlops serve`` command line for ``MODEL_URI`` on 127.0.0.1:``port``."""
    cli = [sys.executable, "-m", "mnist_mlops.cli", "--params", "no-such-params.yaml", "serve"]
    return [*cli, "-m", MODEL_URI, "-p", str(port), *options]


def answers(url: str, timeout_s: float = 10) -> bool:
    """Return whether ``GET url`` answers 200 (``False`` while nothing listens)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as answer:
            return answer.status == 200
    except OSError:  # (HTTPError and URLError are OSErrors)
        return False


def answers_ping(url: str) -> bool:
    """Return whether ``GET {url}/ping`` answers 200 (a model server is up)."""
    return answers(f"{url}/ping")


@contextmanager
def started_process(
    command: list[str],
    log_path: Path,
    ready: Callable[[], bool],
    env: dict[str, str] | None = None,
    timeout_s: float = START_TIMEOUT_S,
) -> Iterator[subprocess.Popen]:
    """Start ``command`` in a session of its own (output to ``log_path``); yield it once
    ``ready()`` holds; stop it and its children afterwards. Fails the test, with the log's
    end, if it exits or is not ready within ``timeout_s``."""
    from pipelines.prefect_server import stop_process_group

    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + timeout_s
        while not ready():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"{' '.join(command[:4])} did not start (exit code {process.poll()}):\n"
                    + log_path.read_text(errors="replace")[-4000:]
                )
            time.sleep(0.3)
        yield process
    finally:
        stop_process_group(process, timeout_s=30)


@contextmanager
def running_server(command: list[str], port: int, log_path: Path) -> Iterator[str]:
    """Start ``command`` (a server on 127.0.0.1:``port``), yield its URL once /ping answers."""
    with running_server_process(command, port, log_path) as (url, _):
        yield url


@contextmanager
def running_server_process(
    command: list[str], port: int, log_path: Path
) -> Iterator[tuple[str, subprocess.Popen]]:
    """:func:`running_server`, yielding the process too (its pid, for /proc/<pid>/status).

    The server records predictions beside ``log_path`` unless the environment names a store
    (tests/conftest.py's ``isolated_state`` does; a module-scoped fixture runs before it).
    """
    url = f"http://127.0.0.1:{port}"
    beside_log = {
        "MNIST_MLOPS_PREDICTIONS_STORE": f"sqlite:///{log_path.parent / 'predictions.db'}"
    }
    env = beside_log | os.environ | {"PATH": venv_path()}
    with started_process(command, log_path, lambda: answers_ping(url), env) as process:
        yield url, process
