"""The one fit loop (train stage, exercises, tuning trials): seeded, early stopping, loss guard."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mnist_mlops.artifacts.processed import Split
from mnist_mlops.config.params import ModelConfig, TrainConfig
from mnist_mlops.errors import TrainingDivergedError
from mnist_mlops.training.augment import augmented_batches
from mnist_mlops.training.callbacks import NonFiniteLossGuard
from mnist_mlops.training.model import build_model, set_determinism

if TYPE_CHECKING:
    import keras

logger = logging.getLogger(__name__)


@dataclass
class FitResult:
    """A fitted model with its per-epoch history (``loss``, ``accuracy``, ``val_*``)."""

    model: keras.Model
    history: dict[str, list[float]]
    fit_seconds: float


def fit(
    model_config: ModelConfig,
    train_config: TrainConfig,
    train: Split,
    val: Split,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int = 0,
    seed: int | None = None,
) -> FitResult:
    """Build the model from the sections and fit it on ``train``, validated on ``val``.

    Deterministic for a given ``seed`` (default ``train_config.seed``); ``callbacks`` are added
    after the loss guard and early stopping.

    Returns:
        The model, its history and the fit's seconds.

    Raises:
        TrainingDivergedError: The loss became NaN or infinite (training stopped there).
    """
    import keras

    run_seed = train_config.seed if seed is None else seed
    set_determinism(run_seed)
    model = build_model(model_config, train_config.optimizer)
    guard = NonFiniteLossGuard()
    all_callbacks: list[keras.callbacks.Callback] = [guard]
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
    if train_config.augment.enabled:  # batches from a seeded, augmenting tf.data pipeline
        batches = augmented_batches(
            train.x, train.y, train_config.augment, train_config.batch_size, run_seed
        )
        data: dict = {"x": batches, "shuffle": False}  # (shuffled by the pipeline)
    else:
        data = {"x": train.x, "y": train.y, "batch_size": train_config.batch_size}
    started = time.perf_counter()
    history = model.fit(
        **data,
        validation_data=(val.x, val.y),
        epochs=train_config.epochs,
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
