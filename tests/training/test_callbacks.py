import math
from types import SimpleNamespace

import mlflow
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
    guard.set_model(SimpleNamespace(stop_training=False))
    guard.on_epoch_end(0, {"loss": 0.5, "val_loss": 0.4})
    assert guard.failure is None and guard.model.stop_training is False
    guard.on_epoch_end(1, {"loss": 0.5, "val_loss": math.nan})
    guard.on_epoch_end(2, {"loss": math.inf})
    assert guard.failure == "val_loss became nan at epoch 2" and guard.model.stop_training


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
