import pytest

from mnist_mlops.config.params import parse_params
from mnist_mlops.errors import ConfigError


def space(**dimensions):
    return parse_params({"tune": {"space": dimensions}}).tune.space


def test_fixed_ranges_and_choices():
    parsed = space(
        epochs=3, neurons={"low": 16, "high": 256, "log": True}, optimizer=["adam", "sgd"]
    )
    assert parsed.epochs == 3
    assert parsed.neurons.log is True
    assert parsed.searched() == ["neurons", "optimizer"]


@pytest.mark.parametrize(
    ("dimensions", "expected"),
    [
        ({"neurons": {"low": 64, "high": 8}}, "tune.space.neurons: low (64) must be <= high (8)"),
        ({"neurons": {"low": 0, "high": 8, "log": True}}, "a log range needs low >= 1"),
        ({"n_layers": {"low": 1, "high": 5}}, "n_layers range [1, 5] must lie within [1, 3]"),
        ({"activation": ["relu", "relux"]}, "tune.space.activation.1 = 'relux': Input should be"),
        ({"optimizer": []}, "optimizer: the list of choices is empty"),
        (
            {"dropout": {"low": 0, "high": 0.5, "lg": True}},
            "dropout.lg: unknown key; allowed keys here: high, log, low",
        ),
        ({"epochs": 0}, "tune.space.epochs = 0: Input should be greater than or equal to 1"),
        ({"learning_rate": {"low": 0, "high": 0.1, "log": True}}, "a log range needs low > 0"),
        ({"batchsize": [32]}, "tune.space.batchsize: unknown key"),
    ],
)
def test_bad_space_definitions_are_rejected_clearly(dimensions, expected):
    with pytest.raises(ConfigError) as info:
        parse_params({"tune": {"space": dimensions}})
    assert expected in str(info.value)
