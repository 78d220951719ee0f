"""Keras callbacks, on epoch logs only: the non-finite loss guard, an MLflow logger.

Not ``mlflow.keras.MlflowCallback`` (MLflow 3.17, read): it logs to the active run only, at
0-based steps, with no prefix or epoch time, and adds optimizer params to the run.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

import keras
import numpy as np

from mnist_mlops.tracking.log import log_metrics

if TYPE_CHECKING:
    from mlflow import MlflowClient

EPOCH_TIME_METRIC = "epoch_time_s"
GUARDED_LOSSES = ("loss", "val_loss")


def non_finite_loss(
    logs: dict[str, Any] | None, epoch: int, model: keras.Model | None = None
) -> str | None:
    """Return why the 0-based ``epoch``'s losses are not finite (``"loss became nan at epoch 3"``).

    With ``model``, NaN or infinite weights count too (``"weights became nan at epoch 3"``):
    Keras 3 then reports a finite loss (measured: 2.30 with every weight NaN).
    ``None`` when ``loss`` and ``val_loss`` are finite or absent (and the weights finite).
    """
    for key in GUARDED_LOSSES:
        value = (logs or {}).get(key)
        if value is not None and not math.isfinite(float(value)):
            return f"{key} became {float(value)} at epoch {epoch + 1}"
    if model is not None and not all(np.isfinite(w).all() for w in model.get_weights()):
        return f"weights became nan at epoch {epoch + 1}"
    return None


class NonFiniteLossGuard(keras.callbacks.Callback):
    """Stop training and remember where the loss stopped being finite (``failure``)."""

    def __init__(self) -> None:
        """Start with no failure."""
        super().__init__()
        self.failure: str | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Stop training at the first epoch with a non-finite loss."""
        reason = non_finite_loss(logs, epoch, self.model)
        if reason is not None and self.failure is None:
            self.failure = reason
            self.model.stop_training = True


class EpochMetricsLogger(keras.callbacks.Callback):
    """Log each epoch's Keras logs and ``epoch_time_s`` to one run, step = 1-based epoch.

    One queued ``log_batch`` call per epoch; ``on_train_end`` waits for them and raises a
    failure. ``epoch_times`` holds the epochs' seconds, ``logging_seconds`` the callback's own.
    """

    def __init__(self, run_id: str, client: MlflowClient | None = None, prefix: str = "") -> None:
        """Log into ``run_id`` (need not be the active run), names prefixed with ``prefix``."""
        from mlflow import MlflowClient

        super().__init__()
        self.run_id, self.prefix = run_id, prefix
        self.client = client or MlflowClient()
        self.epoch_times: list[float] = []
        self.logging_seconds = 0.0
        self._started = 0.0
        self._pending: list[Any] = []

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Start the epoch's clock."""
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Queue the epoch's metrics on MLflow's logging thread."""
        now = time.perf_counter()
        self.epoch_times.append(now - self._started)
        values = {f"{self.prefix}{key}": value for key, value in (logs or {}).items()}
        values[f"{self.prefix}{EPOCH_TIME_METRIC}"] = now - self._started
        self._pending += log_metrics(
            self.run_id, values, step=epoch + 1, client=self.client, synchronous=False
        )
        self.logging_seconds += time.perf_counter() - now

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        """Wait for every queued call (a logging failure is raised here)."""
        now = time.perf_counter()
        pending, self._pending = self._pending, []
        for operation in pending:
            operation.wait()
        self.logging_seconds += time.perf_counter() - now
