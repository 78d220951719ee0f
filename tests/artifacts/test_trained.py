import re

import numpy as np
import pytest

from mnist_mlops.artifacts.trained import (
    HISTORY_FILE,
    MODEL_FILE,
    RUN_FILE,
    TrainedRunInfo,
    load_run_info,
    load_trained,
    save_trained,
)
from mnist_mlops.config.params import ModelConfig, OptimizerConfig
from mnist_mlops.errors import MissingArtifactError
from mnist_mlops.training.model import build_model
from mnist_mlops.training.tracked import TrainedRun


def trained_run():
    model = build_model(ModelConfig(hidden_layers=[4]), OptimizerConfig())
    history = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}
    return TrainedRun(model, history, 0.1, run_id="r1", experiment_id="7", model_uri="models:/m")


def test_save_and_load_round_trip(tmp_path):
    trained = trained_run()
    save_trained(trained.model, trained.history, trained.run_info("exp"), tmp_path / "trained")
    assert sorted(p.name for p in (tmp_path / "trained").iterdir()) == sorted(
        [HISTORY_FILE, MODEL_FILE, RUN_FILE]
    )
    loaded = load_trained(tmp_path / "trained")
    assert loaded.run == TrainedRunInfo(
        run_id="r1", experiment_id="7", experiment="exp", model_uri="models:/m"
    )
    assert load_run_info(tmp_path / "trained") == loaded.run
    assert loaded.history == trained.history
    x = np.ones((2, 784), dtype=np.float32)
    np.testing.assert_array_equal(
        loaded.model.predict_on_batch(x), trained.model.predict_on_batch(x)
    )


def test_a_failed_save_keeps_the_previous_output(tmp_path):
    first = trained_run()
    save_trained(first.model, first.history, first.run_info("exp"), tmp_path / "trained")
    before = (tmp_path / "trained" / RUN_FILE).read_bytes()
    broken = trained_run()
    broken.history = {"loss": [object()]}  # not JSON: the write fails after the model file
    with pytest.raises(TypeError):
        save_trained(broken.model, broken.history, broken.run_info("new"), tmp_path / "trained")
    assert (tmp_path / "trained" / RUN_FILE).read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["trained"]


def test_loading_before_training_names_the_stage(tmp_path):
    expected = f"{re.escape(MODEL_FILE)} not found; run the train stage"
    with pytest.raises(MissingArtifactError, match=expected):
        load_trained(tmp_path)
