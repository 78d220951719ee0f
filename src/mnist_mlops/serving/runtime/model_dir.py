"""Find a model's local folder without importing MLflow (a second, not ten, for one prediction).

``import mlflow`` alone takes seconds, and a client resolving ``models:/name@alias`` more:
far more than ``mnist-mlops predict`` needs for one digit. :func:`local_model_dir` resolves the
URIs it can resolve exactly as MLflow would, from the files themselves:

* a local folder or ``file://`` URI holding an ``MLmodel`` file;
* ``models:/<name>/<version>`` and ``models:/<name>@<alias>`` against a local SQLite registry
  (``sqlite:///path``), read with :mod:`sqlite3` in read-only mode: the alias row, then the
  version's ``storage_location`` (else ``source``), as MLflow's SQLAlchemy store does. Nothing is
  cached: every call reads the alias again, so a moved alias is seen at once.

Anything else - another registry, a ``latest`` or stage URI, MLflow workspaces, a remote
artifact store, a schema this code does not recognise, a version not ``READY`` - gives
``None``, and the caller loads the model through MLflow as before.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from contextlib import closing
from pathlib import Path
from urllib.parse import unquote, urlparse

from mnist_mlops.serving.runtime.model_info import parse_models_uri

logger = logging.getLogger(__name__)

MLMODEL_FILE = "MLmodel"  # MLflow's model description, at the root of every model folder
DEFAULT_WORKSPACE = "default"  # MLflow's registry rows without the workspaces feature
READY = "READY"
DELETED_STAGE = "Deleted_Internal"  # MLflow marks a deleted version so, until it is purged
WORKSPACE_VARIABLES = ("MLFLOW_ENABLE_WORKSPACES", "MLFLOW_WORKSPACE")


def _folder(location: str) -> Path | None:
    """A local folder holding ``MLmodel`` for a plain path or ``file:`` URI, else ``None``."""
    parsed = urlparse(location)
    if parsed.scheme == "file" and parsed.netloc in ("", "localhost"):
        path = Path(unquote(parsed.path))  # POSIX paths (urllib.request costs an import of ssl)
    elif parsed.scheme == "" and location:
        path = Path(location)
    else:
        return None
    return path if path.is_absolute() and (path / MLMODEL_FILE).is_file() else None


def _sqlite_file(registry_uri: str) -> Path | None:
    prefix = "sqlite:///"
    if not registry_uri.startswith(prefix) or "?" in registry_uri:
        return None
    path = Path(registry_uri[len(prefix) :])  # "sqlite:////abs" is absolute, "sqlite:///x" not
    return path.resolve() if path.is_file() else None


def _name_and_version(model_uri: str) -> tuple[str, str | None, int | None] | None:
    """``(name, alias, version)`` of a ``models:/`` URI this module resolves, else ``None``."""
    parts = parse_models_uri(model_uri)
    if parts is None:
        return None
    name, version, alias = parts
    if "/" in name or not name.strip():
        return None
    if version is not None:
        return name, None, int(version)
    if alias is not None and alias.strip() and alias.lower() != "latest":
        return name, alias, None
    return None  # a stage (models:/name/Production): only MLflow resolves it


def _registry_location(
    database: Path, name: str, alias: str | None, version: int | None
) -> str | None:
    """The version's artifact location, read as MLflow's store reads it (``None``: not found)."""
    uri = f"{database.as_uri()}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as connection:
        if alias is not None:
            row = connection.execute(
                "SELECT version FROM registered_model_aliases "
                "WHERE workspace = ? AND name = ? AND alias = ?",
                (DEFAULT_WORKSPACE, name, alias),
            ).fetchone()
            if row is None:
                return None
            version = int(row[0])
        row = connection.execute(
            "SELECT storage_location, source, status, current_stage FROM model_versions "
            "WHERE workspace = ? AND name = ? AND version = ?",
            (DEFAULT_WORKSPACE, name, version),
        ).fetchone()
    if row is None or row[2] != READY or row[3] == DELETED_STAGE:
        return None
    return row[0] or row[1]


def local_model_dir(model_uri: str, registry_uri: str | None = None) -> Path | None:
    """Return the local folder of ``model_uri`` when it can be found without MLflow.

    Args:
        model_uri: A model URI: a folder, ``file://...``, ``models:/name/3``,
            ``models:/name@alias``.
        registry_uri: The model registry (for ``models:/`` URIs), e.g. ``sqlite:///mlflow.db``.

    Returns:
        The folder holding the model's ``MLmodel`` file, or ``None`` when only MLflow can say
        (see the module docstring); ``None`` is never a wrong folder, only a slower path.
    """
    wanted = _name_and_version(model_uri)
    if wanted is None:
        return None if model_uri.startswith("models:") else _folder(model_uri)
    database = _sqlite_file(registry_uri or "")
    if database is None or any(os.environ.get(name) for name in WORKSPACE_VARIABLES):
        return None
    try:
        location = _registry_location(database, *wanted)
    except (sqlite3.Error, ValueError) as exc:
        logger.debug("registry %s not read directly: %s", database, exc)
        return None
    return _folder(location) if location else None
