"""Which registered model a server serves: name, version and alias, resolved once at start.

:func:`resolve_model` pins an alias to the version it names now
(``models:/mnist-classifier@champion`` -> ``models:/mnist-classifier/3``): every worker loads,
and ``/model-info`` reports, that version even if the alias moves while the server runs.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

MODELS_SCHEME = "models:/"


@dataclass(frozen=True)
class ServedModel:
    """The model a server serves.

    Attributes:
        uri: The URI the server was started with.
        load_uri: The URI it loads: the resolved version for an alias, else ``uri``.
        name: The registered model's name (``None`` for a run or path URI).
        version: The registered version (``None`` when the URI names none).
        alias: The alias the URI names (``None`` for a version or a stage).
    """

    uri: str
    load_uri: str
    name: str | None = None
    version: str | None = None
    alias: str | None = None
    FIELDS: ClassVar[tuple[str, ...]] = ("uri", "load_uri", "name", "version", "alias")

    def as_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-ready dict (``/model-info``'s answer)."""
        return asdict(self)

    def to_json(self) -> str:
        """Return the fields as JSON (handed to worker processes)."""
        return json.dumps(self.as_dict())

    @classmethod
    def from_json(cls, text: str) -> ServedModel:
        """Read what :meth:`to_json` wrote."""
        return cls(**json.loads(text))


def parse_models_uri(uri: str) -> tuple[str, str | None, str | None] | None:
    """Split a ``models:/`` URI into name, version and alias.

    Args:
        uri: Any model URI.

    Returns:
        ``(name, version, alias)`` for ``models:/NAME@ALIAS`` and ``models:/NAME/VERSION``
        (``(name, None, None)`` for ``models:/NAME/STAGE``); ``None`` for any other URI,
        a logged model's ``models:/m-...`` id included.
    """
    if not uri.startswith(MODELS_SCHEME):
        return None
    path = uri.removeprefix(MODELS_SCHEME).strip("/")
    name, at, alias = path.rpartition("@")
    if at and name and alias and "/" not in alias:
        return name, None, alias
    name, slash, suffix = path.rpartition("/")
    if not (slash and name and suffix):
        return None
    return (name, suffix, None) if suffix.isdigit() else (name, None, None)


def resolve_model(uri: str) -> ServedModel:
    """Ask the registry which version ``uri`` names and return it, pinned.

    Args:
        uri: The model URI to serve, e.g. ``models:/mnist-classifier@champion``.

    Returns:
        The served model; for an alias, ``load_uri`` names the version it points to now.

    Raises:
        MlflowException: Unknown model, version or alias (or an unreachable registry).
    """
    from mlflow import MlflowClient

    parts = parse_models_uri(uri)
    if parts is None:
        return ServedModel(uri, uri)
    name, version, alias = parts
    client = MlflowClient()
    if alias is not None:
        version = client.get_model_version_by_alias(name, alias).version
        return ServedModel(uri, f"{MODELS_SCHEME}{name}/{version}", name, str(version), alias)
    if version is not None:
        client.get_model_version(name, version)  # fails early for an unknown version
    return ServedModel(uri, uri, name, version)
