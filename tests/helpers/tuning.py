"""A tiny search space, trials of it and a params mapping, for the tuning tests."""

from __future__ import annotations

import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import FrozenTrial, TrialState

TINY_TUNE = {
    "study": "tiny",
    "n_trials": 3,
    "workers": 1,  # one process: the tests' trials are deterministic (the default is 2)
    "pruner": "median",
    "seed": 7,
    "space": {
        "epochs": {"low": 1, "high": 2},
        "n_layers": 1,
        "neurons": {"low": 8, "high": 32, "log": True},
        "activation": ["relu", "tanh"],
        "optimizer": ["adam", "sgd"],
        "learning_rate": {"low": 0.001, "high": 0.05, "log": True},
        "batch_size": [32],
        "dropout": 0.0,
    },
}


# the searched dimensions of the tiny space, as Optuna records them
TINY_DISTRIBUTIONS = {
    "epochs": IntDistribution(1, 2),
    "neurons_1": IntDistribution(8, 32, log=True),
    "activation": CategoricalDistribution(["relu", "tanh"]),
    "optimizer": CategoricalDistribution(["adam", "sgd"]),
    "learning_rate": FloatDistribution(0.001, 0.05, log=True),
}
TINY_TRIAL_PARAMS = {
    "epochs": 2,
    "neurons_1": 16,
    "activation": "relu",
    "optimizer": "adam",
    "learning_rate": 0.01,
}


def tiny_trial(
    value: float | None, state: TrialState = TrialState.COMPLETE, **params: object
) -> FrozenTrial:
    """A finished trial of the tiny space (for ``study.add_trial``), without training."""
    return optuna.trial.create_trial(
        state=state,
        value=value,
        params=TINY_TRIAL_PARAMS | params,
        distributions=TINY_DISTRIBUTIONS,
        intermediate_values={1: 0.1} if state == TrialState.PRUNED else None,
    )


def tiny_params_dict(**tune_overrides) -> dict:
    """A params mapping with the tiny study (tune keys overridden by ``tune_overrides``)."""
    return {
        "model": {"hidden_layers": [16]},
        "train": {"epochs": 1, "batch_size": 32},
        "tune": TINY_TUNE | tune_overrides,
    }


def write_tuning_project(paths, splits) -> None:
    """Give the project ``paths`` processed ``splits`` and a params file of the tiny space."""
    import yaml

    from mnist_mlops.artifacts.processed import save_splits

    paths.processed_dir.mkdir(parents=True, exist_ok=True)
    save_splits(splits, paths.processed_dir)
    paths.params_file.write_text(yaml.safe_dump(tiny_params_dict()))
