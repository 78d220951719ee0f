import subprocess
import sys

import pytest
import yaml

from mnist_mlops.config.params import load_params, parse_params
from mnist_mlops.errors import ConfigError
from tests.helpers.workspace import REPO_ROOT, repository_params_text


def test_repository_params_are_valid_and_reproduce_the_course_model():
    params = parse_params(yaml.safe_load(repository_params_text()))
    assert params.model.hidden_layers == [512]
    assert params.model.activation == "relu"
    assert params.train.optimizer.name == "adam"
    assert (params.train.epochs, params.train.batch_size) == (5, 128)


def test_empty_file_gives_defaults(tmp_path):
    (tmp_path / "p.yaml").write_text("")
    assert load_params(tmp_path / "p.yaml").train.epochs == 5


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"train": {"epochs": 0}}, "train.epochs = 0: Input should be greater than or equal to 1"),
        ({"model": {"hidden_layers": [-5]}}, "model.hidden_layers.0 = -5: Input should be greater"),
        (
            {"train": {"optimizer": {"name": "adamm"}}},
            "train.optimizer.name = 'adamm': Input should be 'adam', 'sgd', 'rmsprop'",
        ),
        (
            {"train": {"optimizer": {"learning_rate": -0.01}}},
            "train.optimizer.learning_rate = -0.01: Input should be greater than 0",
        ),
        (
            {"preprocess": {"val_fraction": 1.5}},
            "preprocess.val_fraction = 1.5: Input should be less",
        ),
        (
            {"trian": {}},
            "trian: unknown key; allowed keys here: baselines, data, feedback, mlflow, model",
        ),
        (
            {"train": {"epoch": 3}},
            "train.epoch: unknown key; allowed keys here: augment, batch_size",
        ),
        ({"train": {"epochs": "five"}}, "train.epochs = 'five': Input should be a valid integer"),
        ({"data": {"source": "idx"}}, "data.path is required when data.source is 'idx'"),
        ({"data": {"source": "web"}}, "data.source = 'web': Input should be 'auto', 'mnist'"),
        ({"model": {"activation": "relux"}}, "model.activation = 'relux': Input should be 'relu'"),
        (
            {"register": {"min_improvement": 2}},
            "register.min_improvement = 2: Input should be less",
        ),
        ([1, 2], "the top level must be a mapping"),
    ],
)
def test_bad_values_name_key_value_and_what_is_allowed(raw, expected):
    with pytest.raises(ConfigError) as info:
        parse_params(raw)
    assert expected in str(info.value)


def test_every_problem_is_listed_at_once():
    with pytest.raises(ConfigError) as info:
        parse_params({"train": {"epochs": 0, "batch_size": -1}, "model": {"dropout": 1.0}})
    text = str(info.value)
    assert "train.epochs" in text and "train.batch_size" in text and "model.dropout" in text


def test_invalid_yaml(tmp_path):
    (tmp_path / "p.yaml").write_text("train: {epochs: 5\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_params(tmp_path / "p.yaml")


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_params(tmp_path / "absent.yaml")


def test_configs_are_immutable():
    params = parse_params({})
    with pytest.raises(Exception, match="frozen"):
        params.train.epochs = 3  # type: ignore[misc]


@pytest.mark.parametrize("stage", ["download", "preprocess"])
def test_stage_stops_before_any_work_on_bad_params(tmp_path, stage):
    bad = tmp_path / "params.yaml"
    bad.write_text(yaml.safe_dump({"preprocess": {"val_fraction": 1.5}, "data": {"retries": -1}}))
    result = subprocess.run(
        [sys.executable, "-m", "pipelines", stage, "--params", str(bad)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**__import__("os").environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    assert result.returncode == 2
    assert "preprocess.val_fraction = 1.5" in result.stderr
    assert "data.retries = -1" in result.stderr
    assert "Starting temporary server" not in result.stderr + result.stdout
    assert not (tmp_path / "data").exists()
