"""Which registered model a server serves: name, version and alias, resolved once at start."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

MODELS_SCHEME = "models:/"


@dataclass(frozen=True)
class ServedModel:
    """The model a server serves: the URI it was given, the URI it loads (an alias's version).

    ``name``, ``version`` and ``alias`` are the registry's (``None`` where the URI names none).
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
        """Return the fields as JSON; :meth:`from_json` reads it back."""
        return json.dumps(self.as_dict())

    @classmethod
    def from_json(cls, text: str) -> ServedModel:
        """Read what :meth:`to_json` wrote."""
        return cls(**json.loads(text))


def parse_models_uri(uri: str) -> tuple[str, str | None, str | None] | None:
    """Return ``(name, version, alias)`` of ``models:/NAME@ALIAS`` or ``models:/NAME/VERSION``.

    ``(name, None, None)`` for ``models:/NAME/STAGE``; ``None`` for any other URI (a logged
    model's ``models:/m-...`` included).
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
    """Return the model ``uri`` serves, an alias pinned to the version it names now.

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
