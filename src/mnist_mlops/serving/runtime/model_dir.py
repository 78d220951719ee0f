"""The local folder of a model URI: as given, or resolved by MLflow's client once and kept."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from mnist_mlops.io import atomic_write_bytes
from mnist_mlops.serving.runtime.model_info import parse_models_uri

logger = logging.getLogger(__name__)

MLMODEL_FILE = "MLmodel"  # MLflow's model description, at the root of every model folder
KEPT_SUFFIX = ".resolved-models.json"
SQLITE_PREFIX = "sqlite:///"


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
    if not registry_uri.startswith(SQLITE_PREFIX) or "?" in registry_uri:
        return None
    path = Path(registry_uri[len(SQLITE_PREFIX) :])  # "sqlite:////abs" is absolute
    return path.resolve() if path.is_file() else None


def _stamp(database: Path) -> list[int]:
    """What changes whenever the registry is written: its files' sizes and modification times."""
    files = (database, database.with_name(database.name + "-wal"))
    stats = [path.stat() for path in files if path.exists()]
    return [value for stat in stats for value in (stat.st_size, stat.st_mtime_ns)]


def _resolve(model_uri: str, registry_uri: str) -> str | None:
    """The model version's download URI, from MLflow's client (``None``: not found)."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    name, version, alias = parse_models_uri(model_uri) or (None, None, None)
    if name is None or (version is None and (alias is None or alias.lower() == "latest")):
        return None
    client = MlflowClient(tracking_uri=registry_uri, registry_uri=registry_uri)
    try:
        if alias is not None:
            version = client.get_model_version_by_alias(name, alias).version
        return client.get_model_version_download_uri(name, str(version))
    except MlflowException as exc:
        logger.debug("%s not resolved: %s", model_uri, exc)
        return None


def local_model_dir(model_uri: str, registry_uri: str | None = None) -> Path | None:
    """Return the local folder holding ``model_uri``'s ``MLmodel``, or ``None``.

    A folder or ``file://`` URI is itself. ``models:/NAME@ALIAS`` and ``models:/NAME/VERSION``
    in a local SQLite ``registry_uri`` are resolved by MLflow's client and kept in
    ``<registry file>`` + :data:`KEPT_SUFFIX` while the registry file (and its ``-wal``) keeps
    its size and modification time. ``None`` (another registry, a stage, ``@latest``, an
    unknown alias): only MLflow's loader can say.
    """
    if not model_uri.startswith("models:"):
        return _folder(model_uri)
    database = _sqlite_file(registry_uri or "")
    if database is None:
        return None
    kept_file = database.with_name(database.name + KEPT_SUFFIX)
    key = f"{os.environ.get('MLFLOW_WORKSPACE', '')}|{model_uri}"
    before = _stamp(database)
    try:
        kept = json.loads(kept_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        kept = {}
    if kept.get("stamp") != before:
        kept = {"stamp": before, "folders": {}}
    if key not in kept["folders"]:
        kept["folders"][key] = _resolve(model_uri, registry_uri or "")
        if _stamp(database) == before:  # nothing written meanwhile: keep it
            try:
                atomic_write_bytes(kept_file, json.dumps(kept).encode("utf-8"))
            except OSError as exc:
                logger.debug("%s not kept: %s", kept_file, exc)
    location = kept["folders"][key]
    return _folder(location) if location else None
