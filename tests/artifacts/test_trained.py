import json
import re
import zipfile

import numpy as np
import pytest

from mnist_mlops.artifacts.trained import (
    HISTORY_FILE,
    KERAS_METADATA,
    MODEL_FILE,
    ZIP_EPOCH,
    keras_bytes,
    load_model,
    load_trained,
    save_trained,
)
from mnist_mlops.config.params import ModelConfig, OptimizerConfig
from mnist_mlops.errors import MissingArtifactError
from mnist_mlops.training.model import build_model, set_determinism

HISTORY = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}


def model(seed=0):
    set_determinism(seed)
    return build_model(ModelConfig(hidden_layers=[4]), OptimizerConfig())


def test_save_and_load_round_trip(tmp_path):
    trained = model()
    save_trained(trained, HISTORY, tmp_path / "trained")
    assert sorted(p.name for p in (tmp_path / "trained").iterdir()) == [HISTORY_FILE, MODEL_FILE]
    loaded = load_trained(tmp_path / "trained")
    assert loaded.history == HISTORY
    x = np.ones((2, 784), dtype=np.float32)
    np.testing.assert_array_equal(loaded.model.predict_on_batch(x), trained.predict_on_batch(x))


def test_the_same_weights_give_the_same_model_bytes(tmp_path):
    first = model()
    copy = model(seed=1)  # another model object, other initial weights...
    copy.set_weights(first.get_weights())  # ...then the same weights
    saved = keras_bytes(first)
    assert keras_bytes(copy) == saved
    assert keras_bytes(model(seed=1)) != saved  # other weights, other bytes
    save_trained(first, HISTORY, tmp_path / "a")
    save_trained(copy, HISTORY, tmp_path / "b")
    assert (tmp_path / "a" / MODEL_FILE).read_bytes() == (tmp_path / "b" / MODEL_FILE).read_bytes()


def test_the_model_file_holds_no_save_time(tmp_path):
    save_trained(model(), HISTORY, tmp_path)
    with zipfile.ZipFile(tmp_path / MODEL_FILE) as archive:
        assert {entry.date_time for entry in archive.infolist()} == {ZIP_EPOCH}
        metadata = json.loads(archive.read(KERAS_METADATA))
    assert "date_saved" not in metadata and "keras_version" in metadata
    assert load_model(tmp_path).get_layer("hidden_1").units == 4  # Keras still loads it


def test_a_failed_save_keeps_the_previous_output(tmp_path):
    save_trained(model(), HISTORY, tmp_path / "trained")
    before = (tmp_path / "trained" / MODEL_FILE).read_bytes()
    with pytest.raises(TypeError):  # not JSON: the write fails after the model file
        save_trained(model(seed=1), {"loss": [object()]}, tmp_path / "trained")
    assert (tmp_path / "trained" / MODEL_FILE).read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["trained"]


def test_loading_before_training_names_the_stage(tmp_path):
    expected = f"{re.escape(MODEL_FILE)} not found; run the train stage"
    with pytest.raises(MissingArtifactError, match=expected):
        load_trained(tmp_path)
