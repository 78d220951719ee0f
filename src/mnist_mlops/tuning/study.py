"""Create or load a named study with the configured sampler and pruner; count its trials."""

from __future__ import annotations

import logging
from collections import Counter
from typing import Literal

import optuna
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial, TrialState

from mnist_mlops.config.constants import PrunerName

logger = logging.getLogger(__name__)

DIRECTION: Literal["maximize"] = "maximize"  # validation accuracy
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
REASON_ATTR = "reason"  # why a trial was pruned or failed
DURATION_ATTR = "duration_s"  # seconds the trial ran
# MedianPruner: no pruning in the first trials and epochs (too little to compare with). After
# one epoch the trials' accuracies differ by less than their noise: pruning from epoch 1 ended
# 9 of 12 Fashion-MNIST trials there (benchmarks/README.md, pipeline_scale).
STARTUP_TRIALS = 3
WARMUP_STEPS = 3


def make_pruner(name: PrunerName) -> optuna.pruners.BasePruner:
    """Return the pruner for ``tune.pruner`` (``none``, ``median`` or ``hyperband``)."""
    if name == "median":
        return optuna.pruners.MedianPruner(
            n_startup_trials=STARTUP_TRIALS, n_warmup_steps=WARMUP_STEPS
        )
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, reduction_factor=3)
    return optuna.pruners.NopPruner()


def open_study(
    name: str, storage: BaseStorage, pruner: PrunerName = "median", seed: int = 42
) -> optuna.Study:
    """Create the study ``name`` (maximising validation accuracy) or load it.

    ``seed`` seeds the TPE sampler (workers pass ``seed + worker index``).
    """
    sampler = optuna.samplers.TPESampler(seed=seed)
    return optuna.create_study(
        study_name=name,
        storage=storage,
        sampler=sampler,
        pruner=make_pruner(pruner),
        direction=DIRECTION,
        load_if_exists=True,
    )


def trial_value(trial: FrozenTrial) -> float:
    """Return the value of a COMPLETE trial (its validation accuracy)."""
    if trial.value is None:
        raise ValueError(f"trial {trial.number} has no value ({trial.state.name})")
    return trial.value


def state_counts(study: optuna.Study) -> Counter[TrialState]:
    """Return how many trials of the study are in each state."""
    return Counter(trial.state for trial in study.get_trials(deepcopy=False))


def finished_count(study: optuna.Study) -> int:
    """Return the number of finished trials (COMPLETE + PRUNED): what ``n_trials`` counts."""
    counts = state_counts(study)
    return sum(counts[state] for state in FINISHED)
