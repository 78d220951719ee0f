import math
from types import SimpleNamespace

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient

from mnist_mlops.config.params import MlflowConfig
from mnist_mlops.tracking.setup import setup_tracking
from mnist_mlops.training.callbacks import (
    EPOCH_TIME_METRIC,
    EpochMetricsLogger,
    NonFiniteLossGuard,
    non_finite_loss,
)


@pytest.mark.parametrize(
    ("logs", "reason"),
    [
        ({"loss": 0.5, "val_loss": 0.6}, None),
        ({"loss": math.nan, "val_loss": 0.6}, "loss became nan at epoch 3"),
        ({"loss": 0.5, "val_loss": math.inf}, "val_loss became inf at epoch 3"),
        ({"accuracy": 0.5}, None),
        (None, None),
    ],
)
def test_the_one_non_finite_rule_checks_loss_and_val_loss(logs, reason):
    assert non_finite_loss(logs, epoch=2) == reason


def test_the_guard_stops_at_the_first_non_finite_epoch_and_remembers_it():
    guard = NonFiniteLossGuard()
    weights = [np.ones(3, np.float32)]
    guard.set_model(SimpleNamespace(stop_training=False, get_weights=lambda: weights))
    guard.on_epoch_end(0, {"loss": 0.5, "val_loss": 0.4})
    assert guard.failure is None and guard.model.stop_training is False
    guard.on_epoch_end(1, {"loss": 0.5, "val_loss": math.nan})
    guard.on_epoch_end(2, {"loss": math.inf})
    assert guard.failure == "val_loss became nan at epoch 2" and guard.model.stop_training


def test_the_guard_sees_nan_weights_behind_a_finite_loss():
    """Keras 3 reports a finite loss (2.30) once inf inputs made every weight NaN (measured)."""
    import keras

    x = np.random.default_rng(0).random((64, 784), np.float32)
    x[:5] = np.inf
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(8, activation="relu")])
    model.add(keras.layers.Dense(10, activation="softmax"))
    model.compile("adam", "sparse_categorical_crossentropy")
    guard = NonFiniteLossGuard()
    history = model.fit(
        x, np.arange(64) % 10, epochs=3, batch_size=32, verbose=0, callbacks=[guard]
    )
    assert math.isfinite(history.history["loss"][0])  # the loss alone would not tell
    assert guard.failure == "weights became nan at epoch 1" and len(history.history["loss"]) == 1


def test_the_epoch_logger_logs_every_epoch_at_its_step(tmp_path):
    setup_tracking(MlflowConfig(experiment="test-callbacks"), tmp_path)
    with mlflow.start_run() as run:
        logger = EpochMetricsLogger(run.info.run_id, prefix="trial_")
        for epoch in range(2):
            logger.on_epoch_begin(epoch)
            logger.on_epoch_end(epoch, {"loss": 1.0 / (epoch + 1)})
        logger.on_train_end()
    client = MlflowClient()
    losses = client.get_metric_history(run.info.run_id, "trial_loss")
    assert [(m.step, m.value) for m in losses] == [(1, 1.0), (2, 0.5)]
    assert len(client.get_metric_history(run.info.run_id, f"trial_{EPOCH_TIME_METRIC}")) == 2
    assert len(logger.epoch_times) == 2 and logger.logging_seconds >= 0
