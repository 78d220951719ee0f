"""The objective: one trial is one :func:`~mnist_mlops.training.fit.fit` scored on val.

Every trial is seeded with ``tune.seed`` and fits without early stopping: neither
``train.seed`` nor early stopping is part of the study's identity.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import keras
import optuna

from mnist_mlops.artifacts.processed import Split
from mnist_mlops.config.params import ModelConfig, TrainConfig
from mnist_mlops.config.space import SearchSpace
from mnist_mlops.errors import TrainingDivergedError
from mnist_mlops.training.callbacks import GUARDED_LOSSES, EpochMetricsLogger, non_finite_loss
from mnist_mlops.training.fit import fit
from mnist_mlops.tuning.space import suggest
from mnist_mlops.tuning.study import DURATION_ATTR, REASON_ATTR
from mnist_mlops.tuning.trial_runs import TrialRuns

METRIC = "val_accuracy"


def divergence_reason(
    logs: dict[str, Any], epoch: int, model: keras.Model | None = None
) -> str | None:
    """Return why 0-based ``epoch`` diverged, or ``None``.

    ``"non-finite loss (nan) at epoch 3"`` from the logs, or ``"non-finite weights at epoch 3"``
    from ``model``'s weights.
    """
    if non_finite_loss(logs, epoch, model) is None:
        return None
    key = next((k for k in GUARDED_LOSSES if k in logs and not math.isfinite(float(logs[k]))), None)
    if key is None:
        return f"non-finite weights at epoch {epoch + 1}"
    return f"non-finite {key} ({float(logs[key])}) at epoch {epoch + 1}"


class PruningReporter(keras.callbacks.Callback):
    """Report each epoch's validation accuracy to the trial; stop when the pruner says so.

    An epoch with a non-finite loss is not reported (the loss guard stops the fit there).

    Attributes:
        reason: Why the pruner stopped the fit (``None``: it did not).
        divergence: Why the loss guard stopped it (``None``: it did not).
        last_value: The last reported validation accuracy (``None``: none reported).
    """

    def __init__(self, trial: optuna.Trial) -> None:
        """Report to ``trial``."""
        super().__init__()
        self.trial = trial
        self.reason: str | None = None
        self.divergence: str | None = None
        self.last_value: float | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Report the epoch (1-based step); stop training when the trial should be pruned."""
        logs = logs or {}
        self.divergence = divergence_reason(logs, epoch, self.model)
        if self.divergence is not None:
            return
        step = epoch + 1
        self.last_value = float(logs[METRIC])
        self.trial.report(self.last_value, step)
        if self.trial.should_prune():
            self.reason = f"pruned at epoch {step}: {METRIC} {self.last_value:.4f}"
            self.model.stop_training = True


def trial_train_config(train: TrainConfig, seed: int) -> TrainConfig:
    """Return a trial's ``train`` section: seeded with ``seed``, no early stopping."""
    stopping = train.early_stopping.model_copy(update={"enabled": False})
    return train.model_copy(update={"seed": seed, "early_stopping": stopping})


@dataclass
class Objective:
    """Callable objective for ``study.optimize``: fit on ``train_split``, score on ``val_split``.

    ``model`` / ``train`` give the dimensions ``space`` leaves out; every trial fits with
    ``seed``; ``runs`` creates each trial's MLflow child run (``None``: no tracking).
    """

    train_split: Split
    val_split: Split
    space: SearchSpace
    model: ModelConfig
    train: TrainConfig
    seed: int = 42
    runs: TrialRuns | None = None

    def __call__(self, trial: optuna.Trial) -> float:
        """Run one trial (Keras session cleared around it); return its last validation accuracy.

        Its duration and any pruning / failure reason are the trial's user attributes.

        Raises:
            optuna.TrialPruned: The pruner stopped it, or its loss became NaN/inf.
        """
        keras.backend.clear_session()
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
            trial.set_user_attr(DURATION_ATTR, round(duration, 3))
            if reason:
                trial.set_user_attr(REASON_ATTR, reason)
            if self.runs is not None and run_id is not None:
                self.runs.finish(run_id, state, value, duration, reason)
            keras.backend.clear_session()
        if reason is not None or value is None:
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
        reporter = PruningReporter(trial)
        callbacks: list[keras.callbacks.Callback] = [reporter]
        if self.runs is not None and run_id is not None:
            callbacks.append(EpochMetricsLogger(run_id, client=self.runs.client()))
        try:
            fit(
                model_config,
                trial_train_config(train_config, self.seed),
                self.train_split,
                self.val_split,
                callbacks=callbacks,
            )
        except TrainingDivergedError as exc:
            return reporter.last_value, reporter.divergence or str(exc)
        if reporter.reason is None and reporter.last_value is None:
            return None, "no epoch finished"
        return reporter.last_value, reporter.reason
