"""Logging params, metrics and in-memory bytes into MLflow runs, in batched calls."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:
    from mlflow import MlflowClient

logger = logging.getLogger(__name__)

MAX_BATCH = 1000  # MLflow accepts at most 1000 metrics / 100 params per log_batch call
MAX_PARAM_BATCH = 100


def flatten_params(values: Mapping[str, Any] | BaseModel, prefix: str = "") -> dict[str, str]:
    """Flatten a mapping or config section into ``{"train.optimizer.name": "adam", ...}``.

    Keys get ``prefix.`` first; lists become ``"[512, 256]"``; models are dumped by alias.
    """
    if isinstance(values, BaseModel):
        values = values.model_dump(mode="json", by_alias=True)
    flat: dict[str, str] = {}
    for key, value in values.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            flat |= flatten_params(value, name)
        elif isinstance(value, list | tuple):
            flat[name] = "[" + ", ".join(str(item) for item in value) + "]"
        else:
            flat[name] = str(value)
    return flat


def log_params(run_id: str, params: Mapping[str, Any], client: MlflowClient | None = None) -> None:
    """Log ``params`` to a run in as few ``log_batch`` calls as MLflow allows (100 each)."""
    from mlflow import MlflowClient
    from mlflow.entities import Param

    client = client or MlflowClient()
    items = [Param(str(key), str(value)) for key, value in params.items()]
    for start in range(0, len(items), MAX_PARAM_BATCH):
        client.log_batch(run_id, params=items[start : start + MAX_PARAM_BATCH])


def log_metrics(
    run_id: str,
    metrics: Mapping[str, float],
    step: int = 0,
    client: MlflowClient | None = None,
    synchronous: bool = True,
) -> list[Any]:
    """Log numeric ``metrics`` at ``step`` in batched calls (non-numbers and non-finite skipped).

    Returns:
        With ``synchronous=False``, the queued operations (``.wait()`` on each raises a
        logging failure); otherwise an empty list.
    """
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    client = client or MlflowClient()
    timestamp = int(time.time() * 1000)
    items = []
    for key, value in metrics.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(number):
            items.append(Metric(str(key), number, timestamp, step))
    pending = []
    for start in range(0, len(items), MAX_BATCH):
        chunk = items[start : start + MAX_BATCH]
        operation = client.log_batch(run_id, metrics=chunk, synchronous=synchronous)
        if operation is not None:
            pending.append(operation)
    return pending


def log_bytes(
    run_id: str, data: bytes, artifact_file: str, client: MlflowClient | None = None
) -> None:
    """Log ``data`` as the artifact ``artifact_file`` (e.g. ``"plots/history.png"``) of a run."""
    import tempfile

    from mlflow import MlflowClient

    client = client or MlflowClient()
    folder, _, name = artifact_file.rpartition("/")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        client.log_artifact(run_id, str(path), artifact_path=folder or None)
