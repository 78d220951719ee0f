"""Training: seeded fit on the train split (validated on the val split), tracked in MLflow.

:func:`fit` is the plain Keras fit (determinism, early stopping, non-finite loss guard);
:func:`train_tracked` wraps it in one MLflow run with params, tags, per-epoch metrics, the
model summary, the history PNG and the logged model. :mod:`mnist_mlops.trained` writes and
reads the stage's output folder.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mnist_mlops import keras_logging, plots, tracking
from mnist_mlops.config import ModelConfig, TrainConfig
from mnist_mlops.data.preprocess import Split
from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.loss_guard import non_finite_loss_guard
from mnist_mlops.model import build_model, set_determinism

if TYPE_CHECKING:
    import keras

logger = logging.getLogger(__name__)

EXAMPLE_ROWS = 2


class TrainingDivergedError(MnistMlopsError):
    """The loss became NaN or infinite: training stopped and the stage fails."""


@dataclass
class FitResult:
    """A fitted model with its per-epoch history (``loss``, ``accuracy``, ``val_*``)."""

    model: keras.Model
    history: dict[str, list[float]]
    fit_seconds: float


@dataclass
class TrainedRun(FitResult):
    """A :class:`FitResult` recorded as an MLflow run."""

    run_id: str = ""
    experiment_id: str = ""
    model_uri: str = ""
    params_count: int = 0
    tracking_seconds: float = 0.0

    def run_info(self, experiment: str) -> dict[str, str]:
        """Return the ``run.json`` content: run, experiment and logged-model identifiers."""
        return {
            "run_id": self.run_id,
            "experiment_id": self.experiment_id,
            "experiment": experiment,
            "model_uri": self.model_uri,
        }


def fit(
    model_config: ModelConfig,
    train_config: TrainConfig,
    train: Split,
    val: Split,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int = 0,
) -> FitResult:
    """Build the model from params and fit it, deterministically for a given seed.

    Args:
        model_config: The ``model`` section.
        train_config: The ``train`` section (epochs, batch size, optimizer, early stopping, seed).
        train: The training split.
        val: The validation split (Keras ``validation_data``).
        callbacks: Extra Keras callbacks (e.g. :func:`keras_logging.epoch_metrics_callback`).
        verbose: Keras ``fit`` verbosity.

    Returns:
        The model and its history.

    Raises:
        TrainingDivergedError: The loss became NaN or infinite (training stopped there).
    """
    import keras

    set_determinism(train_config.seed)
    model = build_model(model_config, train_config.optimizer)
    guard = non_finite_loss_guard()
    all_callbacks = [guard]
    stopping = train_config.early_stopping
    if stopping.enabled:
        all_callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_loss",
                patience=stopping.patience,
                min_delta=stopping.min_delta,
                restore_best_weights=stopping.restore_best_weights,
            )
        )
    all_callbacks.extend(callbacks)
    started = time.perf_counter()
    history = model.fit(
        train.x,
        train.y,
        validation_data=(val.x, val.y),
        epochs=train_config.epochs,
        batch_size=train_config.batch_size,
        callbacks=all_callbacks,
        verbose=verbose,
    )
    seconds = time.perf_counter() - started
    if guard.failure:
        raise TrainingDivergedError(
            f"training diverged: {guard.failure}; lower train.optimizer.learning_rate "
            f"(now {train_config.optimizer.learning_rate}) or change the optimizer"
        )
    values = {key: [float(value) for value in series] for key, series in history.history.items()}
    return FitResult(model=model, history=values, fit_seconds=seconds)


def model_summary(model: keras.Model) -> str:
    """Return Keras's ``model.summary()`` as plain text."""
    buffer = io.StringIO()
    model.summary(print_fn=lambda line, **_: buffer.write(line + "\n"))
    return buffer.getvalue()


def train_tracked(
    model_config: ModelConfig,
    train_config: TrainConfig,
    splits: Mapping[str, Split],
    logged_params: Mapping[str, Any],
    tags: Mapping[str, str] | None = None,
    run_name: str | None = None,
    log_model: bool = True,
    verbose: int = 0,
) -> TrainedRun:
    """Train in one MLflow run of the active experiment (call :func:`tracking.setup_tracking`).

    The run gets ``logged_params`` and ``tags``, per-epoch metrics (step = epoch) with
    ``epoch_time_s``, ``params_count``, ``epochs_run`` and ``fit_time_s``, the artifacts
    ``model_summary.txt``, ``plots/history.png`` and ``history.json``, and the model (signature
    and input example). A failure, divergence included, ends the run as FAILED and re-raises.

    Args:
        model_config: The ``model`` section (as used, after tuning).
        train_config: The ``train`` section (as used, after tuning).
        splits: ``train`` and ``val`` splits.
        logged_params: Flattened params to record (see :func:`tracking.flatten_params`).
        tags: Run tags (see :func:`tracking.run_tags`).
        run_name: MLflow run name.
        log_model: Whether to log the model to MLflow.
        verbose: Keras ``fit`` verbosity.

    Returns:
        The trained model, history and MLflow identifiers.
    """
    import mlflow

    client = mlflow.MlflowClient()
    with mlflow.start_run(run_name=run_name) as run:
        run_id = run.info.run_id
        mlflow.set_tags({"stage": "train", "model.family": "keras", **(tags or {})})
        tracking.log_params(run_id, logged_params, client=client)
        callback = keras_logging.epoch_metrics_callback(run_id, client=client)
        result = fit(
            model_config, train_config, splits["train"], splits["val"], [callback], verbose
        )
        params_count = int(result.model.count_params())
        epochs_run = len(result.history.get("loss", []))
        tracking.log_metrics(
            run_id,
            {
                "params_count": params_count,
                "epochs_run": epochs_run,
                "fit_time_s": result.fit_seconds,
            },
            step=epochs_run,
            client=client,
        )
        mlflow.log_text(model_summary(result.model), "model_summary.txt")
        mlflow.log_dict(result.history, "history.json")
        png = plots.history_png(result.history, title=run_name or "training history")
        tracking.log_bytes(run_id, png, "plots/history.png", client=client)
        model_uri = ""
        if log_model:
            model_uri = keras_logging.log_keras_model(
                result.model, splits["train"].x[:EXAMPLE_ROWS]
            )
        logger.info(
            "run %s: %d epochs, val_accuracy %.4f, %.1f s",
            run_id,
            epochs_run,
            result.history.get("val_accuracy", [float("nan")])[-1],
            result.fit_seconds,
        )
    return TrainedRun(
        model=result.model,
        history=result.history,
        fit_seconds=result.fit_seconds,
        run_id=run_id,
        experiment_id=run.info.experiment_id,
        model_uri=model_uri,
        params_count=params_count,
        tracking_seconds=callback.logging_seconds,
    )
