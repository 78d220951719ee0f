"""Pip requirements of logged models, pinned to the installed versions.

Pinning them here skips MLflow's own inference (which imports the model in a subprocess and
takes seconds) and records exactly what the model was logged with.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterable


def pinned_requirements(packages: Iterable[str]) -> list[str]:
    """Return ``name==version`` for each installed package of ``packages`` (others skipped).

    Args:
        packages: Distribution names, e.g. ``("mlflow", "numpy")``.

    Returns:
        The pins, in the order given.
    """
    pins = []
    for name in packages:
        try:
            pins.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    return pins
