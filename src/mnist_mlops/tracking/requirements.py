"""Pip requirements of logged models, pinned to the installed versions.

See docs/decisions/pinned-model-requirements.md.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterable


def pinned_requirements(packages: Iterable[str]) -> list[str]:
    """Return ``name==version`` for each installed distribution of ``packages``, in order."""
    pins = []
    for name in packages:
        try:
            pins.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    return pins
