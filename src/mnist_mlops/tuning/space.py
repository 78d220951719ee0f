"""Turn ``tune.space`` into Optuna suggestions and back into ``model`` / ``train`` sections.

A dimension left out (``None``) keeps the ``model:`` / ``train:`` value, a single value is
fixed, a range or a list of two or more choices is searched. Only searched dimensions become
Optuna parameters, so a trial's ``params`` hold exactly what the study varied.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mnist_mlops.config.params import ModelConfig, TrainConfig
from mnist_mlops.config.space import FloatRange, IntRange, SearchSpace

if TYPE_CHECKING:
    from optuna.trial import BaseTrial


def _pick(trial: BaseTrial, name: str, value: Any, default: Any) -> Any:
    """Return the value of one dimension: the default, a fixed value or a suggestion."""
    if value is None:
        return default
    if isinstance(value, IntRange):
        return trial.suggest_int(name, value.low, value.high, step=value.step, log=value.log)
    if isinstance(value, FloatRange):
        return trial.suggest_float(name, value.low, value.high, log=value.log)
    if isinstance(value, list):
        if len(value) == 1:
            return value[0]
        return trial.suggest_categorical(name, list(value))
    return value


def suggest(
    trial: BaseTrial, space: SearchSpace, model: ModelConfig, train: TrainConfig
) -> tuple[ModelConfig, TrainConfig]:
    """Return the ``model`` and ``train`` sections ``trial`` draws from ``space`` (validated).

    Each layer's neurons are a parameter ``neurons_<i>``; a dimension left out takes its value
    from ``model`` / ``train`` (a missing layer repeats the last size). ``filters`` (the first
    block's count, doubled per later block) and ``kernel_size`` are drawn only for a ``cnn``.
    ``trial`` may be a ``FixedTrial`` to rebuild a trial's values.
    """
    default_layers = list(model.hidden_layers)
    n_layers = _pick(trial, "n_layers", space.n_layers, len(default_layers))
    layers = []
    for index in range(1, n_layers + 1):
        default = default_layers[min(index, len(default_layers)) - 1]
        layers.append(_pick(trial, f"neurons_{index}", space.neurons, default))
    activation = _pick(trial, "activation", space.activation, model.activation)
    dropout = _pick(trial, "dropout", space.dropout, model.dropout)
    kind = _pick(trial, "kind", space.kind, model.kind)
    cnn = model.cnn.model_dump()
    if kind == "cnn":  # the blocks' dimensions exist only in trials that build a CNN
        first = _pick(trial, "filters", space.filters, None)
        if first is not None:
            cnn["filters"] = [first * 2**block for block in range(len(model.cnn.filters))]
        cnn["kernel_size"] = _pick(trial, "kernel_size", space.kernel_size, cnn["kernel_size"])
    model_values = {
        "hidden_layers": layers,
        "activation": activation,
        "dropout": dropout,
        "kind": kind,
        "cnn": cnn,
    }
    optimizer_values = train.optimizer.model_dump() | {
        "name": _pick(trial, "optimizer", space.optimizer, train.optimizer.name),
        "learning_rate": _pick(
            trial, "learning_rate", space.learning_rate, train.optimizer.learning_rate
        ),
    }
    train_values = train.model_dump() | {
        "epochs": _pick(trial, "epochs", space.epochs, train.epochs),
        "batch_size": _pick(trial, "batch_size", space.batch_size, train.batch_size),
        "optimizer": optimizer_values,
        "augment": train.augment.model_dump()
        | {"enabled": _pick(trial, "augment", space.augment, train.augment.enabled)},
    }
    return ModelConfig.model_validate(model_values), TrainConfig.model_validate(train_values)


def rebuild(
    params: dict[str, Any], space: SearchSpace, model: ModelConfig, train: TrainConfig
) -> tuple[ModelConfig, TrainConfig]:
    """Rebuild the sections a finished trial trained with from its ``params``."""
    from optuna.trial import FixedTrial

    return suggest(FixedTrial(params), space, model, train)
