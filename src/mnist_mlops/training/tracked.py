"""One training as one MLflow run: params, tags, per-epoch metrics, summary, plots and model."""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from mnist_mlops.artifacts.processed import Split
from mnist_mlops.artifacts.runs import TrainedRunInfo
from mnist_mlops.artifacts.trained import HISTORY_FILE
from mnist_mlops.config.params import ModelConfig, TrainConfig
from mnist_mlops.config.paths import RELATIVE
from mnist_mlops.evaluation import plots
from mnist_mlops.tracking.keras_model import log_keras_model
from mnist_mlops.tracking.log import log_bytes, log_metrics, log_params
from mnist_mlops.tracking.owner import owned_run
from mnist_mlops.tracking.setup import recorded_uri
from mnist_mlops.training.callbacks import EpochMetricsLogger
from mnist_mlops.training.fit import FitResult, fit

if TYPE_CHECKING:
    import keras

logger = logging.getLogger(__name__)

EXAMPLE_ROWS = 2
HISTORY_ARTIFACT = HISTORY_FILE
SUMMARY_ARTIFACT = "model_summary.txt"
PLOTS_ARTIFACT_DIR = PurePosixPath(RELATIVE["plots_dir"]).name
HISTORY_PLOT_ARTIFACT = f"{PLOTS_ARTIFACT_DIR}/history.png"


@dataclass
class TrainedRun(FitResult):
    """A :class:`FitResult` recorded as an MLflow run."""

    run_id: str = ""
    experiment_id: str = ""
    tracking_uri: str = ""
    model_uri: str = ""
    params_count: int = 0
    tracking_seconds: float = 0.0

    def run_info(self, experiment: str) -> TrainedRunInfo:
        """Return the train stage's run record; ``experiment`` is the run's experiment name."""
        return TrainedRunInfo(
            tracking_uri=recorded_uri(self.tracking_uri),
            experiment=experiment,
            experiment_id=self.experiment_id,
            run_id=self.run_id,
            model_uri=self.model_uri,
        )


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
    """:func:`.fit.fit` on ``splits`` in one MLflow run of the active experiment.

    The run gets ``logged_params``, ``tags``, per-epoch metrics, ``params_count``,
    ``epochs_run`` and ``fit_time_s``, the artifacts :data:`SUMMARY_ARTIFACT`,
    :data:`HISTORY_PLOT_ARTIFACT` and :data:`HISTORY_ARTIFACT`, and (``log_model``) the model.
    A failure ends the run FAILED and re-raises; a stop ends it KILLED.
    """
    import mlflow

    client = mlflow.MlflowClient()
    run_tags = {"stage": "train", "model.family": "keras", **(tags or {})}
    with owned_run(run_name, run_tags) as run:
        run_id = run.info.run_id
        log_params(run_id, logged_params, client=client)
        callback = EpochMetricsLogger(run_id, client=client)
        result = fit(
            model_config, train_config, splits["train"], splits["val"], [callback], verbose
        )
        params_count = int(result.model.count_params())
        epochs_run = len(result.history.get("loss", []))
        seconds = result.fit_seconds
        summary = {"params_count": params_count, "epochs_run": epochs_run, "fit_time_s": seconds}
        log_metrics(run_id, summary, step=epochs_run, client=client)
        mlflow.log_text(model_summary(result.model), SUMMARY_ARTIFACT)
        mlflow.log_dict(result.history, HISTORY_ARTIFACT)
        png = plots.history_png(result.history, title=run_name or "training history")
        log_bytes(run_id, png, HISTORY_PLOT_ARTIFACT, client=client)
        model_uri = ""
        if log_model:
            model_uri = log_keras_model(result.model, splits["train"].x[:EXAMPLE_ROWS])
        logger.info(
            "run %s: %d epochs, val_accuracy %.4f, %.1f s",
            run_id,
            epochs_run,
            result.history.get("val_accuracy", [float("nan")])[-1],
            result.fit_seconds,
        )
    return TrainedRun(
        **vars(result),
        run_id=run_id,
        experiment_id=run.info.experiment_id,
        tracking_uri=mlflow.get_tracking_uri(),
        model_uri=model_uri,
        params_count=params_count,
        tracking_seconds=callback.logging_seconds,
    )


def train_details(model: ModelConfig, train: TrainConfig) -> list[str]:
    """Return a fit's key params for its run name: ``["512 relu", "adam lr 0.001", "5 ep"]``."""
    layers = "-".join(str(units) for units in model.hidden_layers) or "no hidden layer"
    if model.kind == "cnn":
        layers = f"cnn {'-'.join(str(count) for count in model.cnn.filters)} + {layers}"
    dropout = f" drop {model.dropout:g}" if model.dropout else ""
    optimizer = train.optimizer
    return [
        f"{layers} {model.activation}{dropout}",
        f"{optimizer.name} lr {optimizer.learning_rate:g}",
        f"{train.epochs} ep",
    ]
