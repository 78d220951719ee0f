"""One real `dvc repro` of the whole pipeline per test session, shared by the end-to-end tests.

The ``pipeline`` fixture copies the checkout, shrinks its params (the embedded 5,000 digits,
one hidden layer of 32, 2 epochs, 2 tuning trials over a tiny space) and runs
``python -m pipelines.with_prefect_server dvc repro`` as ``make repro`` does. Tests that only
read its results use it directly and must not change it; tests that change something work in
``project_clone``, a copy of the finished project (git, DVC cache and run cache, the MLflow
store, the Optuna journal), where DVC re-runs only the stages their change affects.

The modules that use the repro or the Prefect harness (``test_*_flow(s).py``, ``test_*_dvc.py``)
run in one pytest-xdist worker (``tests/conftest.py``), so that each is set up once.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from pipelines.with_prefect_server import stop_process_group

from mnist_mlops.config.paths import ProjectPaths
from tests.helpers import mlflow_store
from tests.helpers.pipeline import REPRO, TINY_PIPELINE, Repro, shared_setup_module
from tests.helpers.workspace import clone, commit, copy_repository, environment

_repro: dict = {}  # the session's repro: root, process, log (started once, in the background)


def _start_repro(config: pytest.Config) -> None:
    """Start the repro in the background (once): the Prefect flow tests run meanwhile."""
    if _repro:
        return
    factory: pytest.TempPathFactory = config._tmp_path_factory  # (what tmp_path_factory is)
    root = copy_repository(factory.mktemp("pipeline"), TINY_PIPELINE)
    mlflow_store.seed(ProjectPaths(root).mlflow_db)
    commit(root, "copy of the checkout")
    log = (root.parent / "repro.log").open("w+", encoding="utf-8")
    process = subprocess.Popen(  # a process group: its Prefect server is stopped with it
        REPRO,
        cwd=root,
        env=environment(root),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    _repro.update(root=root, process=process, log=log)


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


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Stop a repro still running (a failed or interrupted session) with all its processes."""
    process = _repro.get("process")
    if process is not None and process.poll() is None:
        stop_process_group(process)


@pytest.fixture(scope="session")
def pipeline(request: pytest.FixtureRequest) -> Repro:
    """The whole pipeline, reproduced once in a copy of the checkout (read it, never change it)."""
    _start_repro(request.config)
    process, log = _repro["process"], _repro["log"]
    process.wait(timeout=1800)
    log.seek(0)
    output = log.read()
    assert process.returncode == 0, output[-4000:]
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
