"""New MLflow SQLite stores in a fraction of a second instead of seconds.

Every test gets a store of its own (``tests/conftest.py``); MLflow creates a new SQLite store
by running its ~60 schema migrations, about 4 s each time on 2 cores. Here the migrations run
once per test session, into a template database, and every new store is a copy of it:

* :func:`install` makes MLflow's table initialisation copy the template (sqlite backup)
  into the empty database, in this process;
* :func:`seed` puts a copy of the template where a subprocess (a CLI, a DVC stage) will
  open its store.

The copy holds exactly what the migrations create (schema, ``alembic_version``, the default
workspace) and no experiment: MLflow's store creates its ``Default`` experiment, with its own
artifact location, as for any new database.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path

_TEMPLATE: Path | None = None
# mlflow modules that imported ``_initialize_tables`` by name (the others use the module's)
_IMPORTERS = (
    "mlflow.store.model_registry.sqlalchemy_store",
    "mlflow.store.jobs.sqlalchemy_store",
    "mlflow.store.workspace.sqlalchemy_store",
)


def template() -> Path:
    """Return the migrated, empty template database (created on first use)."""
    global _TEMPLATE
    if _TEMPLATE is None:
        from mlflow.store.db import utils

        folder = Path(tempfile.mkdtemp(prefix="mnist-mlops-mlflow-template-"))
        path = folder / "template.db"
        engine = utils.create_sqlalchemy_engine_with_retry(f"sqlite:///{path}")
        try:
            getattr(utils, "_initialize_tables_unpatched", utils._initialize_tables)(engine)
        finally:
            engine.dispose()
        _TEMPLATE = path
    return _TEMPLATE


def seed(database: Path) -> Path:
    """Copy the template to ``database`` (a new store's file) unless it exists; return it."""
    if not database.exists():
        database.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template(), database)
    return database


def install() -> None:
    """Make MLflow initialise every new SQLite database of this process from the template."""
    import importlib

    from mlflow.store.db import utils

    if hasattr(utils, "_initialize_tables_unpatched"):
        return
    original = utils._initialize_tables
    source = template()

    def initialize_tables(engine) -> None:
        if engine.url.get_backend_name() != "sqlite" or not utils._is_empty_database(engine):
            original(engine)
            return
        raw = engine.raw_connection()
        template_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            template_db.backup(raw.driver_connection)
        finally:
            template_db.close()
            raw.close()

    utils._initialize_tables_unpatched = original
    utils._initialize_tables = initialize_tables
    for name in _IMPORTERS:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if getattr(module, "_initialize_tables", None) is original:
            module._initialize_tables = initialize_tables
