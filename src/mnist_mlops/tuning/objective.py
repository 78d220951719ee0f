"""The objective: one trial = build the train stage's model, fit on train, score on val.

Validation accuracy is reported after every epoch so that the pruner can stop poor trials.
A non-finite training or validation loss stops the trial at once and prunes it, with the
reason in the trial's user attribute ``reason`` (the study goes on). The Keras session is
cleared before and after each trial, so memory stays flat over many trials.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import optuna

from mnist_mlops.config import ModelConfig, TrainConfig
from mnist_mlops.data.preprocess import Split
from mnist_mlops.model import build_model, set_determinism
from mnist_mlops.tune_space import SearchSpace
from mnist_mlops.tuning.space import suggest
from mnist_mlops.tuning.trial_runs import TrialRuns

if TYPE_CHECKING:
    import keras

logger = logging.getLogger(__name__)

METRIC = "val_accuracy"
REASON_ATTR = "reason"


def trial_monitor(trial: optuna.Trial) -> keras.callbacks.Callback:
    """Return a Keras callback that reports val accuracy, prunes, and stops on NaN/inf loss.

    After training, its ``reason`` is ``None`` (the trial ran to the end) or says why it
    stopped; ``last_value`` is the last reported validation accuracy.
    """
    import keras

    class TrialMonitor(keras.callbacks.Callback):
        """Report each epoch to Optuna; stop on a non-finite loss or when the pruner says so."""

        def __init__(self) -> None:
            super().__init__()
            self.reason: str | None = None
            self.last_value: float | None = None

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            logs = logs or {}
            step = epoch + 1
            for key in ("loss", "val_loss"):
                value = float(logs.get(key, math.nan))
                if not math.isfinite(value):
                    self.reason = f"non-finite {key} ({value}) at epoch {step}"
                    self.model.stop_training = True
                    return
            self.last_value = float(logs[METRIC])
            trial.report(self.last_value, step)
            if trial.should_prune():
                self.reason = f"pruned at epoch {step}: {METRIC} {self.last_value:.4f}"
                self.model.stop_training = True

    return TrialMonitor()


@dataclass
class Objective:
    """Callable objective for ``study.optimize``.

    Attributes:
        train_split: Fitted on.
        val_split: Scored on (never the test split).
        space: The ``tune.space`` section.
        model: The ``model`` section (defaults of dimensions left out).
        train: The ``train`` section (defaults of dimensions left out).
        seed: Seed set before each trial (same seed for every trial: only the
            hyper-parameters differ).
        runs: Creates the MLflow child run of each trial (``None``: no tracking).
    """

    train_split: Split
    val_split: Split
    space: SearchSpace
    model: ModelConfig
    train: TrainConfig
    seed: int = 42
    runs: TrialRuns | None = None

    def __call__(self, trial: optuna.Trial) -> float:
        """Run one trial and return its final validation accuracy.

        Raises:
            optuna.TrialPruned: The pruner stopped it, or its loss became NaN/inf.
        """
        import keras

        keras.backend.clear_session()
        set_determinism(self.seed)
        model_config, train_config = suggest(trial, self.space, self.model, self.train)
        run_id = self.runs.start(trial, model_config, train_config) if self.runs else None
        started = time.perf_counter()
        state, value, reason = "FAIL", None, None
        try:
            value, reason = self._fit(trial, model_config, train_config, run_id)
            state = "COMPLETE" if reason is None else "PRUNED"
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            duration = time.perf_counter() - started
            trial.set_user_attr("duration_s", round(duration, 3))
            if reason:
                trial.set_user_attr(REASON_ATTR, reason)
            if run_id is not None:
                self.runs.finish(run_id, state, value, duration, reason)
            keras.backend.clear_session()
        if reason is not None:
            raise optuna.TrialPruned(reason)
        return value

    def _fit(
        self,
        trial: optuna.Trial,
        model_config: ModelConfig,
        train_config: TrainConfig,
        run_id: str | None,
    ) -> tuple[float | None, str | None]:
        """Fit one model; return ``(last val accuracy, reason it stopped early or None)``."""
        from mnist_mlops.keras_logging import epoch_metrics_callback

        model = build_model(model_config, train_config.optimizer)
        monitor = trial_monitor(trial)
        callbacks = [monitor]
        if run_id is not None:
            callbacks.append(epoch_metrics_callback(run_id, client=self.runs.client()))
        model.fit(
            self.train_split.x,
            self.train_split.y,
            validation_data=(self.val_split.x, self.val_split.y),
            epochs=train_config.epochs,
            batch_size=train_config.batch_size,
            callbacks=callbacks,
            verbose=0,
        )
        if monitor.reason is None and monitor.last_value is None:
            return None, "no epoch finished"
        return monitor.last_value, monitor.reason
