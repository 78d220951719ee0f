"""``tuning/best_params.json``: the tune stage's best trial, read by the train stage.

Format::

    {"skipped": false, "study": "mnist-mlp-...", "trial": 7, "value": 0.93,
     "searched": ["activation", "dropout", "epochs", ...],
     "model": {"hidden_layers": [256], "activation": "relu", "dropout": 0.1},
     "train": {"epochs": 4, "batch_size": 128,
               "optimizer": {"name": "adam", "learning_rate": 0.002},
               "augment": {"enabled": false}}}

``{"skipped": true}`` (``tune.n_trials: 0``) means: keep the ``model:`` / ``train:`` params.
A file without ``searched`` counts every dimension it holds as searched.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from mnist_mlops.artifacts.base import JsonArtifact
from mnist_mlops.config.constants import OptimizerName
from mnist_mlops.config.params import ModelConfig, TrainConfig
from mnist_mlops.config.space import DIMENSIONS, Dimension

TUNED_TRAIN_KEYS: dict[str, Any] = {
    "epochs": True,
    "batch_size": True,
    "optimizer": {"name", "learning_rate"},
    "augment": {"enabled"},
}


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TunedOptimizer(_Frozen):
    """The optimizer values a trial chooses."""

    name: OptimizerName
    learning_rate: float


class TunedAugment(_Frozen):
    """Whether the trial augmented its training batches."""

    enabled: bool


class TunedTrain(_Frozen):
    """The tuned part of the ``train`` section (``augment`` is absent from older files)."""

    epochs: int
    batch_size: int
    optimizer: TunedOptimizer
    augment: TunedAugment | None = None


class BestParams(JsonArtifact):
    """The best trial's parameters (study, trial, value, ``model``, tuned ``train``, searched).

    With ``skipped`` true no other field is set; ``searched`` ``None`` means not recorded.
    """

    PRODUCER = "tune"
    OMIT_NONE = True  # a skipped marker is {"skipped": true}

    skipped: bool
    study: str | None = None
    trial: int | None = None
    value: float | None = None
    model: ModelConfig | None = None
    train: TunedTrain | None = None
    searched: list[Dimension] | None = None

    @classmethod
    def skipped_marker(cls) -> BestParams:
        """Return the file of ``tune.n_trials: 0``."""
        return cls(skipped=True)

    @classmethod
    def from_trial(
        cls,
        study: str,
        trial: int,
        value: float,
        model: ModelConfig,
        train: TrainConfig,
        searched: list[Dimension] | None = None,
    ) -> BestParams:
        """Return the file of a finished trial that trained ``model`` / ``train``."""
        tuned_train = TunedTrain.model_validate(train.model_dump(include=TUNED_TRAIN_KEYS))
        whole_model = ModelConfig.model_validate(model.model_dump())  # every key set, as on disk
        trial_fields = {"study": study, "trial": trial, "value": value, "searched": searched}
        return cls(skipped=False, model=whole_model, train=tuned_train, **trial_fields)

    def searched_dimensions(self) -> tuple[Dimension, ...]:
        """Return the dimensions the study searched (all of them when not recorded)."""
        if self.skipped:
            return ()
        if self.searched is None:
            return DIMENSIONS
        return tuple(name for name in DIMENSIONS if name in self.searched)

    def apply(self, model: ModelConfig, train: TrainConfig) -> tuple[ModelConfig, TrainConfig]:
        """Return ``model`` / ``train`` with every tuned value laid over them (re-validated).

        Unchanged when tuning was skipped; only the model keys the file holds are applied.
        """
        if self.skipped:
            return model, train
        tuned_model = model
        if self.model is not None:
            present = self.model.model_dump(exclude_unset=True)
            tuned_model = ModelConfig.model_validate(model.model_dump() | present)
        if self.train is None:
            return tuned_model, train
        values = train.model_dump()
        values |= {"epochs": self.train.epochs, "batch_size": self.train.batch_size}
        values["optimizer"] |= self.train.optimizer.model_dump()
        return tuned_model, TrainConfig.model_validate(values)
