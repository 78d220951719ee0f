"""How tune's best params and params.yaml combine (train.use_tuned), and the log lines."""

import logging

import pytest

from mnist_mlops.artifacts.best_params import BestParams
from mnist_mlops.config.params import (
    AugmentConfig,
    CnnConfig,
    ModelConfig,
    OptimizerConfig,
    TrainConfig,
)
from mnist_mlops.config.space import SearchSpace
from mnist_mlops.errors import ConfigError
from mnist_mlops.training.tuned_params import combine, resolve_training_params

TRIAL_MODEL = ModelConfig(hidden_layers=[64, 32], activation="tanh", dropout=0.2)
TRIAL_TRAIN = TrainConfig(
    epochs=3, batch_size=64, optimizer=OptimizerConfig(name="sgd", learning_rate=0.01)
)
PARAMS_MODEL = ModelConfig()
PARAMS_TRAIN = TrainConfig(epochs=20, seed=7)


def best(searched):
    return BestParams.from_trial("s", 7, 0.9, TRIAL_MODEL, TRIAL_TRAIN, searched=searched)


def test_only_searched_dimensions_come_from_the_study():
    model, train, replaced = combine(PARAMS_MODEL, PARAMS_TRAIN, best(["activation", "dropout"]))
    assert model == ModelConfig(activation="tanh", dropout=0.2)
    assert train == PARAMS_TRAIN  # epochs 20 (not searched) is what trains
    assert [r.line() for r in replaced] == [
        "model.activation: relu (params.yaml) -> tanh (tuned, trial 7)",
        "model.dropout: 0.0 (params.yaml) -> 0.2 (tuned, trial 7)",
    ]


def test_a_list_names_the_dimensions_taken_and_false_takes_none():
    searched = ["epochs", "n_layers", "neurons", "learning_rate"]
    chosen = PARAMS_TRAIN.model_copy(update={"use_tuned": ["n_layers", "neurons"]})
    model, train, replaced = combine(PARAMS_MODEL, chosen, best(searched))
    assert model.hidden_layers == [64, 32] and train.epochs == 20
    assert [r.key for r in replaced] == ["model.hidden_layers"]  # one line for the shared key
    untuned = PARAMS_TRAIN.model_copy(update={"use_tuned": False})
    assert combine(PARAMS_MODEL, untuned, best(searched))[2] == []


def test_naming_an_unsearched_dimension_is_an_error():
    chosen = PARAMS_TRAIN.model_copy(update={"use_tuned": ["epochs"]})
    with pytest.raises(ConfigError, match="names epochs, which study s did not search"):
        combine(PARAMS_MODEL, chosen, best(["dropout"]))


def test_an_unknown_dimension_name_is_rejected():
    with pytest.raises(ValueError, match="use_tuned"):
        TrainConfig.model_validate({"use_tuned": ["epoch"]})


def test_resolve_logs_one_line_per_replaced_value(tmp_path, caplog):
    path = tmp_path / "tuned.json"
    best(["epochs", "optimizer"]).write(path)
    with caplog.at_level(logging.INFO, logger="mnist_mlops.training.tuned_params"):
        _, train, tags = resolve_training_params(PARAMS_MODEL, PARAMS_TRAIN, path)
    assert train.epochs == 3 and train.optimizer.name == "sgd"
    assert train.optimizer.learning_rate == PARAMS_TRAIN.optimizer.learning_rate
    assert caplog.messages == [
        "train.epochs: 20 (params.yaml) -> 3 (tuned, trial 7)",
        "train.optimizer.name: adam (params.yaml) -> sgd (tuned, trial 7)",
    ]
    assert tags["tuned.dimensions"] == "epochs,optimizer"


def test_keys_read_are_the_values_of_dimensions_left_out():
    assert SearchSpace(epochs=3, n_layers=1).keys_read() == [
        "model.activation",
        "model.cnn.filters",
        "model.cnn.kernel_size",
        "model.cnn.pool_size",
        "model.dropout",
        "model.hidden_layers",
        "model.kind",
        "train.augment.enabled",
        "train.augment.rotation_deg",
        "train.augment.shift",
        "train.augment.zoom",
        "train.batch_size",
        "train.optimizer.learning_rate",
        "train.optimizer.momentum",
        "train.optimizer.name",
        "train.optimizer.nesterov",
    ]


def test_a_searched_augmentation_choice_comes_from_the_study_with_params_strengths():
    trial_train = TRIAL_TRAIN.model_copy(update={"augment": AugmentConfig(enabled=True)})
    tuned = BestParams.from_trial(
        "s",
        7,
        0.9,
        TRIAL_MODEL,
        TrainConfig.model_validate(trial_train.model_dump()),
        searched=["augment"],
    )
    params_train = TrainConfig.model_validate({"augment": {"zoom": 0.2}})
    _, train, replaced = combine(PARAMS_MODEL, params_train, tuned)
    assert train.augment.enabled and train.augment.zoom == 0.2
    assert [r.line() for r in replaced] == [
        "train.augment.enabled: False (params.yaml) -> True (tuned, trial 7)"
    ]
    older = BestParams.model_validate(
        tuned.model_dump()
        | {
            "train": {
                "epochs": 3,
                "batch_size": 64,
                "optimizer": {"name": "sgd", "learning_rate": 0.01},
            }
        }
    )
    assert not combine(PARAMS_MODEL, params_train, older)[1].augment.enabled  # no value: kept


def cnn_study_best(kind: str, searched: list[str]) -> BestParams:
    trial = TRIAL_MODEL.model_copy(
        update={"kind": kind, "cnn": CnnConfig(filters=[16, 32], kernel_size=5)}
    )
    return BestParams.from_trial("s", 7, 0.9, trial, TRIAL_TRAIN, searched=searched)


def test_an_mlp_best_trial_gives_no_cnn_values_even_when_they_are_listed():
    searched = ["kind", "filters", "kernel_size", "dropout"]
    for use_tuned in (True, ["kind", "filters", "kernel_size", "dropout"]):
        train = PARAMS_TRAIN.model_copy(update={"use_tuned": use_tuned})
        model, _, replaced = combine(PARAMS_MODEL, train, cnn_study_best("mlp", searched))
        assert model.cnn == PARAMS_MODEL.cnn  # the MLP trial drew no filters or kernel
        assert [r.key for r in replaced] == ["model.dropout", "model.kind"]


def test_a_cnn_best_trial_gives_its_blocks_and_refuses_to_become_an_mlp():
    searched = ["kind", "filters", "kernel_size"]
    model, _, _ = combine(PARAMS_MODEL, PARAMS_TRAIN, cnn_study_best("cnn", searched))
    assert (model.kind, model.cnn.filters, model.cnn.kernel_size) == ("cnn", [16, 32], 5)
    # kind fixed to cnn in the space: model.kind (mlp) would get a CNN study's values
    with pytest.raises(
        ConfigError, match=r"best trial of study s is a cnn, but train would build a mlp"
    ):
        combine(PARAMS_MODEL, PARAMS_TRAIN, cnn_study_best("cnn", ["filters", "dropout"]))
