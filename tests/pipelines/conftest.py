"""One real `dvc repro` of the whole pipeline per test session, shared by the end-to-end tests.

The ``pipeline`` fixture copies the checkout, shrinks its params (the embedded 5,000 digits,
one hidden layer of 32, 2 epochs, 2 tuning trials over a tiny space) and runs
``dvc repro`` as ``make repro`` does. Tests that only
read its results use it directly and must not change it; tests that change something work in
``project_clone``, a copy of the finished project (git, DVC cache and run cache, the MLflow
store, the Optuna journal), where DVC re-runs only the stages their change affects.

The modules that use the repro or the Prefect harness are ``test_*_flow(s).py`` and
``test_*_dvc.py``: the flow modules run in one pytest-xdist worker (one Prefect test server);
each dvc module runs whole in one worker, any of them. The repro runs once for all workers:
the first one to need it starts it, the others wait for the same run (``_start_repro``).
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import time
from contextlib import suppress
from pathlib import Path

import pytest
from pipelines.prefect_server import stop_process_group

from mnist_mlops.config.paths import ProjectPaths
from tests.helpers import mlflow_store
from tests.helpers.pipeline import REPRO, TINY_PIPELINE, Repro, shared_setup_module
from tests.helpers.workspace import clone, commit, copy_repository, environment

REPRO_TIMEOUT_S = 1800

_repro: dict = {}  # this worker's view of the session's repro: root, log, marker, process


def _shared_folder(factory: pytest.TempPathFactory) -> Path:
    """The folder all pytest-xdist workers of the session see (the controller's base temp)."""
    base = factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def _start_repro(config: pytest.Config) -> None:
    """Start the session's repro in the background, once for all workers.

    The first worker to get here copies the checkout and starts the run (the Prefect flow
    tests go on meanwhile); the others find its folder in ``repro.json``. The run writes its
    exit code to ``repro.done`` (atomically) when it ends, for whichever worker waits on it.
    """
    if _repro:
        return
    factory: pytest.TempPathFactory = config._tmp_path_factory  # (what tmp_path_factory is)
    shared = _shared_folder(factory)
    with (shared / "repro.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        record = shared / "repro.json"
        if record.is_file():
            _repro.update(
                {key: Path(value) for key, value in json.loads(record.read_text()).items()}
            )
            return
        root = copy_repository(factory.mktemp("pipeline"), TINY_PIPELINE)
        mlflow_store.seed(ProjectPaths(root).mlflow_db)
        commit(root, "copy of the checkout")
        paths = {"root": root, "log": root.parent / "repro.log", "done": shared / "repro.done"}
        log = paths["log"].open("w", encoding="utf-8")
        record_exit = '"$@"; code=$?; echo $code > "$0.tmp" && mv "$0.tmp" "$0"; exit $code'
        process = subprocess.Popen(  # a process group of its own
            ["sh", "-c", record_exit, str(paths["done"]), *REPRO],
            cwd=root,
            env=environment(root),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        record.write_text(json.dumps({key: str(value) for key, value in paths.items()}))
        _repro.update(paths, process=process)


_repro_wanted: list[bool] = [False]  # whether a selected test uses the repro


@pytest.hookimpl(trylast=True)  # after -m / -k deselected what will not run
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Note whether any selected test needs the repro (``-k flow`` does not start it)."""
    _repro_wanted[:] = [any("pipeline" in getattr(item, "fixturenames", ()) for item in items)]


@pytest.hookimpl(tryfirst=True)  # before the test's fixtures (the Prefect server) are set up
def pytest_runtest_setup(item: pytest.Item) -> None:
    """With the first test of the shared-setup modules, start the repro if a test needs it."""
    if _repro_wanted[0] and shared_setup_module(item.nodeid):
        _start_repro(item.config)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The worker that started the repro lets it finish for the others (stops it if the
    session was interrupted or failed to start), then nothing of it is left running."""
    process = _repro.get("process")
    if process is None or process.poll() is not None:
        return
    if exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=REPRO_TIMEOUT_S)
    stop_process_group(process)


@pytest.fixture(scope="session")
def pipeline(request: pytest.FixtureRequest) -> Repro:
    """The whole pipeline, reproduced once in a copy of the checkout (read it, never change it)."""
    _start_repro(request.config)
    done: Path = _repro["done"]
    deadline = time.monotonic() + REPRO_TIMEOUT_S
    while not done.is_file():
        process = _repro.get("process")
        assert process is None or process.poll() is None or done.is_file(), (
            f"the repro ended without its exit code:\n{_repro['log'].read_text()[-4000:]}"
        )
        assert time.monotonic() < deadline, f"the repro took over {REPRO_TIMEOUT_S} s"
        time.sleep(0.5)
    output = _repro["log"].read_text(encoding="utf-8")
    assert done.read_text().strip() == "0", output[-4000:]
    return Repro(_repro["root"], output)


@pytest.fixture
def project_clone(pipeline: Repro, tmp_path: Path) -> Path:
    """A copy of the reproduced project that a test may change and re-run."""
    return clone(pipeline.root, tmp_path / "project")


@pytest.fixture(scope="session")
def prefect_api(prefect_harness) -> str:
    """The session's Prefect server, for stages run in ``project_clone`` (no server per run)."""
    from prefect.settings import PREFECT_API_URL

    return str(PREFECT_API_URL.value())
