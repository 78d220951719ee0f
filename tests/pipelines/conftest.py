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

from pathlib import Path

import pytest

from mnist_mlops.config.paths import ProjectPaths
from tests.helpers import mlflow_store
from tests.helpers.pipeline import REPRO, TINY_PIPELINE, Repro
from tests.helpers.workspace import clone, commit, copy_repository, run


@pytest.fixture(scope="session")
def pipeline(tmp_path_factory) -> Repro:
    """The whole pipeline, reproduced once in a copy of the checkout (read it, never change it)."""
    root = copy_repository(tmp_path_factory.mktemp("pipeline"), TINY_PIPELINE)
    mlflow_store.seed(ProjectPaths(root).mlflow_db)
    commit(root, "copy of the checkout")
    return Repro(root, run(root, *REPRO))


@pytest.fixture
def project_clone(pipeline: Repro, tmp_path: Path) -> Path:
    """A copy of the reproduced project that a test may change and re-run."""
    return clone(pipeline.root, tmp_path / "project")


@pytest.fixture(scope="session")
def prefect_api(prefect_harness) -> str:
    """The session's Prefect server, for stages run in ``project_clone`` (no server per run)."""
    from prefect.settings import PREFECT_API_URL

    return str(PREFECT_API_URL.value())
