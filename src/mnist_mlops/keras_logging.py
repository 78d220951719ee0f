"""MLflow logging of Keras training: a cheap per-epoch metrics callback and the logged model.

* :func:`epoch_metrics_callback` - logs every epoch's metrics and ``epoch_time_s``
  (step = epoch, starting at 1) in one ``log_batch`` call per epoch.
* :func:`log_keras_model` - logs a Keras model with its signature and an input example.

Keras and MLflow are imported inside the functions.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from mnist_mlops.tracking import log_metrics

if TYPE_CHECKING:
    import keras
    from mlflow import MlflowClient

EPOCH_TIME_METRIC = "epoch_time_s"


def epoch_metrics_callback(
    run_id: str, client: MlflowClient | None = None, prefix: str = ""
) -> keras.callbacks.Callback:
    """Return a Keras callback logging each epoch's metrics to ``run_id``.

    Each epoch ends with one ``log_batch`` call holding Keras's logs (``loss``, ``accuracy``,
    ``val_loss``, ``val_accuracy``, ...) and ``epoch_time_s``, at step = epoch number (1-based).
    The call is queued on MLflow's background logging thread (the next epoch does not wait
    for it); ``on_train_end`` waits until every queued call is done and re-raises a failure.
    Nothing is logged per batch.

    Args:
        run_id: The MLflow run to log into (it need not be the active run).
        client: An existing client (a new one by default).
        prefix: Prepended to each metric name (e.g. ``"trial_"``).

    Returns:
        The callback: ``epoch_times`` lists the epochs' seconds, ``logging_seconds`` the time
        the callback itself took (the tracking overhead inside ``fit``).
    """
    import keras
    from mlflow import MlflowClient

    tracking_client = client or MlflowClient()

    class EpochMetricsLogger(keras.callbacks.Callback):
        """Log the epoch's metrics and duration in one batched MLflow call."""

        def __init__(self) -> None:
            super().__init__()
            self.epoch_times: list[float] = []
            self.logging_seconds = 0.0
            self._started = 0.0
            self._pending: list[Any] = []

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self._started = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            now = time.perf_counter()
            self.epoch_times.append(now - self._started)
            values = {f"{prefix}{key}": value for key, value in (logs or {}).items()}
            values[f"{prefix}{EPOCH_TIME_METRIC}"] = now - self._started
            self._pending += log_metrics(
                run_id, values, step=epoch + 1, client=tracking_client, synchronous=False
            )
            self.logging_seconds += time.perf_counter() - now

        def on_train_end(self, logs: dict | None = None) -> None:
            now = time.perf_counter()
            pending, self._pending = self._pending, []
            for operation in pending:
                operation.wait()
            self.logging_seconds += time.perf_counter() - now

    return EpochMetricsLogger()


class _KerasFlavorWithExample:
    """``mlflow.keras`` whose ``save_model`` first creates the target folder.

    MLflow 3.17's Keras flavor writes the input example before it creates the model folder
    and fails with ``FileNotFoundError``; creating the folder first is all it needs.
    """

    __name__ = "mlflow.keras"

    @staticmethod
    def save_model(path: str, **kwargs: Any) -> None:
        import mlflow.keras

        os.makedirs(path, exist_ok=True)
        mlflow.keras.save_model(path=path, **kwargs)


def log_keras_model(model: keras.Model, input_example: Any, name: str = "model") -> str:
    """Log ``model`` to the active run with a signature inferred on ``input_example``.

    Args:
        model: The trained Keras model.
        input_example: A few input rows (``(n, 784)`` float32); also stored as the example.
        name: The logged model's name.

    Returns:
        The model URI, loadable with ``mlflow.pyfunc.load_model``.

    The pip requirements are pinned to the installed versions (no slow inference in a
    subprocess).
    """
    from importlib.metadata import PackageNotFoundError, version

    import numpy as np
    from mlflow.models import Model, infer_signature

    requirements = []
    for package in ("mlflow", "keras", "tensorflow-cpu", "tensorflow", "numpy"):
        try:
            requirements.append(f"{package}=={version(package)}")
        except PackageNotFoundError:
            continue
    example = np.asarray(input_example)
    signature = infer_signature(example, np.asarray(model.predict_on_batch(example)))
    info = Model.log(
        artifact_path=None,
        name=name,
        flavor=_KerasFlavorWithExample,
        model=model,
        signature=signature,
        input_example=example,
        pip_requirements=requirements,
    )
    return info.model_uri
