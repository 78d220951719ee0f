import hashlib
import json

import optuna
import pytest
from optuna.trial import FixedTrial

from mnist_mlops.artifacts.best_params import BestParams
from mnist_mlops.config.params import ModelConfig, TrainConfig, parse_params
from mnist_mlops.config.paths import ProjectPaths
from mnist_mlops.config.space import SearchSpace
from mnist_mlops.errors import ConfigError
from mnist_mlops.tuning.space import rebuild, suggest

MODEL = ModelConfig(hidden_layers=[64, 32], activation="tanh", dropout=0.1)
TRAIN = TrainConfig(epochs=3, batch_size=16)


def test_left_out_dimensions_keep_model_and_train_values():
    model, train = suggest(FixedTrial({}), SearchSpace(), MODEL, TRAIN)
    assert model == MODEL
    assert (train.epochs, train.batch_size, train.optimizer) == (3, 16, TRAIN.optimizer)


def test_fixed_values_are_fixed_and_not_optuna_params():
    space = SearchSpace(epochs=2, n_layers=3, neurons=8, activation=["relu"], optimizer="sgd")
    study = optuna.create_study()
    trial = study.ask()
    model, train = suggest(trial, space, MODEL, TRAIN)
    assert model.hidden_layers == [8, 8, 8]
    assert (model.activation, train.epochs, train.optimizer.name) == ("relu", 2, "sgd")
    assert trial.params == {}


def test_ranges_and_lists_are_searched_per_layer():
    space = SearchSpace.model_validate(
        {
            "n_layers": {"low": 1, "high": 3},
            "neurons": {"low": 8, "high": 256, "log": True},
            "activation": ["relu", "elu"],
            "learning_rate": {"low": 0.001, "high": 0.1, "log": True},
            "batch_size": [32, 64],
            "dropout": {"low": 0.0, "high": 0.5},
        }
    )
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    for _ in range(10):
        trial = study.ask()
        model, train = suggest(trial, space, MODEL, TRAIN)
        n_layers = trial.params["n_layers"]
        assert len(model.hidden_layers) == n_layers
        assert [trial.params[f"neurons_{i}"] for i in range(1, n_layers + 1)] == (
            model.hidden_layers
        )
        assert all(8 <= units <= 256 for units in model.hidden_layers)
        assert train.batch_size in (32, 64) and 0.001 <= train.optimizer.learning_rate <= 0.1
        assert train.epochs == 3  # left out
        study.tell(trial, 0.5)


def test_rebuild_and_best_params_format_round_trip_through_train(tmp_path):
    space = SearchSpace.model_validate(
        {"neurons": {"low": 8, "high": 64}, "optimizer": ["adam", "rmsprop"], "epochs": 4}
    )
    params = {"neurons_1": 40, "neurons_2": 12, "optimizer": "rmsprop"}
    model, train = rebuild(params, space, MODEL, TRAIN)
    path = ProjectPaths(tmp_path).best_params
    BestParams.from_trial(study="s", trial=0, value=0.5, model=model, train=train).write(path)
    applied_model, applied_train = BestParams.read(path).apply(MODEL, TRAIN)
    assert applied_model.hidden_layers == [40, 12]
    assert applied_train.optimizer.name == "rmsprop"
    assert applied_train.epochs == 4
    assert applied_model.dropout == MODEL.dropout


@pytest.mark.parametrize(
    ("space", "expected"),
    [
        ({"n_layers": {"low": 1, "high": 5}}, "n_layers range [1, 5] must lie within [1, 3]"),
        ({"activation": ["relu", "softmaxx"]}, "tune.space.activation"),
        ({"neurons": {"low": 0, "high": 64, "log": True}}, "a log range needs low >= 1"),
        ({"batch_size": []}, "batch_size: the list of choices is empty"),
        ({"learning_rate": {"low": 0.1, "high": 0.01}}, "low (0.1) must be <= high (0.01)"),
        ({"layers": 2}, "unknown key"),
    ],
)
def test_bad_space_is_rejected_with_a_clear_message(space, expected):
    with pytest.raises(ConfigError) as error:
        parse_params({"tune": {"space": space}})
    assert expected in str(error.value)


def test_augmentation_is_a_searchable_choice_that_keeps_the_strengths_of_params():
    augment = {"enabled": False, "shift": 0.2, "rotation_deg": 5.0, "zoom": 0.0}
    train = TrainConfig.model_validate(TRAIN.model_dump() | {"augment": augment})
    space = SearchSpace.model_validate({"augment": [False, True]})
    assert space.searched() == ["augment"]
    assert "train.augment.enabled" not in space.keys_read()
    assert {"train.augment.shift", "train.augment.zoom"} <= set(space.keys_read())
    _, on = suggest(FixedTrial({"augment": True}), space, MODEL, train)
    assert on.augment.model_dump() == augment | {"enabled": True}
    _, fixed = suggest(FixedTrial({}), SearchSpace(augment=True), MODEL, train)
    assert fixed.augment.enabled
    assert "train.augment.enabled" in SearchSpace().keys_read()  # left out: params.yaml's
    # fixed off (the course's space): the trials read no augmentation key, so a train-only
    # `dvc exp run -S train.augment.enabled=true` does not re-run the study
    assert not [key for key in SearchSpace(augment=False).keys_read() if "augment" in key]
    with pytest.raises(ValueError, match="augment: the list of choices is empty"):
        SearchSpace.model_validate({"augment": []})


def test_the_study_may_compare_both_kinds_and_the_course_space_stays_mlp():
    space = SearchSpace.model_validate({"kind": ["mlp", "cnn"]})
    assert space.searched() == ["kind"]
    model, _ = suggest(FixedTrial({"kind": "cnn"}), space, MODEL, TRAIN)
    assert model.kind == "cnn" and model.cnn == MODEL.cnn and model.hidden_layers == [64, 32]
    assert {"model.cnn.filters", "model.cnn.kernel_size"} <= set(space.keys_read())
    course = parse_params({}).tune.space
    assert not [key for key in course.keys_read() if key.startswith("model.")]  # none read


def test_the_stage_lists_what_a_searched_kind_or_augment_would_read_too():
    course = parse_params({}).tune.space  # augment false, kind mlp: reads neither
    assert set(course.keys_read()) < set(course.stage_keys())
    assert {"model.cnn.filters", "train.augment.zoom"} <= set(course.stage_keys())
    both = SearchSpace(augment=[False, True], kind=["mlp", "cnn"])
    assert both.stage_keys() == both.keys_read()  # nothing more to list: it reads them all


def test_cnn_filters_and_kernel_are_drawn_only_in_cnn_trials():
    space = SearchSpace.model_validate(
        {
            "kind": ["mlp", "cnn"],
            "filters": {"low": 8, "high": 64, "log": True},
            "kernel_size": [3, 5],
        }
    )
    assert space.searched() == ["kind", "filters", "kernel_size"]
    model, _ = suggest(
        FixedTrial({"kind": "cnn", "filters": 16, "kernel_size": 5}), space, MODEL, TRAIN
    )
    assert (model.cnn.filters, model.cnn.kernel_size) == ([16, 32], 5)  # doubled per block
    three = MODEL.model_copy(update={"cnn": MODEL.cnn.model_copy(update={"filters": [1, 1, 1]})})
    model, _ = suggest(
        FixedTrial({"kind": "cnn", "filters": 8, "kernel_size": 3}), space, three, TRAIN
    )
    assert model.cnn.filters == [8, 16, 32]  # as many blocks as model.cnn.filters
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    kinds = set()
    for _ in range(12):
        trial = study.ask()
        model, _ = suggest(trial, space, MODEL, TRAIN)
        kinds.add(model.kind)
        cnn_params = {"filters", "kernel_size"} & set(trial.params)
        assert cnn_params == ({"filters", "kernel_size"} if model.kind == "cnn" else set())
        if model.kind == "mlp":
            assert model.cnn == MODEL.cnn  # untouched
        assert rebuild(trial.params, space, MODEL, TRAIN)[0] == model
        study.tell(trial, 0.5)
    assert kinds == {"mlp", "cnn"}


def test_cnn_dimensions_are_refused_when_kind_is_fixed_to_mlp():
    for space in (
        {"filters": 16},
        {"kind": "mlp", "kernel_size": [3, 5]},
        {"kind": ["mlp"], "filters": 8},
    ):
        with pytest.raises(ValueError, match="shape a CNN's blocks, but kind is fixed to mlp"):
            SearchSpace.model_validate(space | {"kind": space.get("kind", "mlp")})
    with pytest.raises(ValueError, match=r"filters range \[1, 256\] must lie within \[1, 128\]"):
        SearchSpace.model_validate({"kind": "cnn", "filters": {"low": 1, "high": 256}})
    with pytest.raises(ValueError, match="kernel_size: the list of choices is empty"):
        SearchSpace.model_validate({"kind": "cnn", "kernel_size": []})


def test_cnn_dimensions_change_what_the_trials_read_and_only_when_set_the_identity():
    searched = SearchSpace(kind=["mlp", "cnn"], kernel_size=[3, 5], filters=16)
    read = set(searched.keys_read())
    assert "model.cnn.kernel_size" not in read  # drawn by the study
    assert {"model.cnn.filters", "model.cnn.pool_size"} <= read  # the blocks' count, pooling
    course = parse_params({}).tune.space
    assert "filters" not in course.identity() and "kernel_size" not in course.identity()
    assert searched.identity()["kernel_size"] == [3, 5]


def test_cnn_dimensions_need_trials_that_can_build_a_cnn():
    with pytest.raises(
        ConfigError, match=r"tune.space.filters shape a CNN's blocks, but every trial builds an mlp"
    ):
        parse_params({"tune": {"space": {"filters": {"low": 8, "high": 16}}}})
    cnn = parse_params({"model": {"kind": "cnn"}, "tune": {"space": {"kernel_size": [3, 5]}}})
    assert cnn.tune.space.searched() == ["kernel_size"]


def test_the_course_spaces_fingerprint_is_the_one_before_the_cnn_dimensions():
    # the dimensions of the course space before filters and kernel_size existed: its studies
    # (mnist-mlp-807d0687a06f in tuning/best_params.json) keep their names
    course = {"epochs": {"low": 2, "high": 6}, "n_layers": {"low": 1, "high": 2}}
    course |= {"neurons": {"low": 64, "high": 512, "log": True}}
    course |= {"activation": ["relu", "sigmoid", "tanh"], "optimizer": ["adam", "rmsprop", "sgd"]}
    course |= {"learning_rate": {"low": 0.0003, "high": 0.01, "log": True}}
    course |= {"batch_size": [64, 128], "dropout": {"low": 0.0, "high": 0.3}}
    course |= {"augment": False, "kind": "mlp"}
    identity = parse_params({"tune": {"space": course}}).tune.space.identity()
    before = ["epochs", "n_layers", "neurons", "activation", "optimizer", "learning_rate"]
    assert list(identity) == [*before, "batch_size", "dropout", "augment", "kind"]
    # the SHA-256 of the space's part of the fingerprint, as commit 005679b computed it
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
    assert digest == "38f22ba0fa9b40434fb044ed113d5f38c771fa5eb9f3d9f61f189d19cc168404"
