"""model.kind: cnn - conv blocks before the dense layers, trained, logged and served."""

import mlflow
import numpy as np
import pytest
from pydantic import ValidationError

from mnist_mlops.config.params import CnnConfig, ModelConfig, OptimizerConfig, TrainConfig
from mnist_mlops.serving.runtime.onnx_network import ONNX_FILE
from mnist_mlops.serving.runtime.predictions import probabilities_of
from mnist_mlops.serving.runtime.pyfunc import log_classifier
from mnist_mlops.training.fit import fit
from mnist_mlops.training.model import build_model
from mnist_mlops.training.tracked import train_details
from tests.helpers.models import use_test_store

TINY_CNN = ModelConfig(kind="cnn", hidden_layers=[16], cnn=CnnConfig(filters=[4, 8]))


def test_the_cnn_reads_784_pixels_as_an_image_through_conv_and_pool_blocks():
    model = build_model(TINY_CNN, OptimizerConfig())
    assert [layer.name for layer in model.layers] == [
        "image",
        "conv_1",
        "pool_1",
        "conv_2",
        "pool_2",
        "features",
        "hidden_1",
        "digit",
    ]
    assert model.input_shape == (None, 784) and model.output_shape == (None, 10)
    assert model.get_layer("conv_2").output.shape[1:] == (14, 14, 8)  # "same" padding
    assert model.get_layer("features").output.shape[1:] == (7 * 7 * 8,)
    assert model.name == "mnist_cnn"
    assert build_model(ModelConfig(), OptimizerConfig()).name == "mnist_mlp"  # the course's


def test_cnn_settings_are_validated_with_what_is_allowed():
    with pytest.raises(ValidationError, match="1 to 512 filters"):
        CnnConfig(filters=[0])
    with pytest.raises(ValidationError, match="at most 3"):
        CnnConfig(filters=[8, 8, 8, 8])
    with pytest.raises(ValidationError, match="'mlp' or 'cnn'"):
        ModelConfig(kind="rnn")


def test_a_cnn_trains_is_named_and_is_served_by_onnx_with_keras_answers(tiny_splits, tmp_path):
    train = TrainConfig(epochs=1, batch_size=32)
    result = fit(TINY_CNN, train, tiny_splits["train"], tiny_splits["val"])
    assert np.isfinite(result.history["loss"][0])
    assert train_details(TINY_CNN, train)[0] == "cnn 4-8 + 16 relu"
    use_test_store()
    with mlflow.start_run():
        info = log_classifier(result.model)
    mlflow.artifacts.download_artifacts(info.model_uri, dst_path=str(tmp_path))
    assert [path.name for path in (tmp_path / "artifacts").iterdir()] == [ONNX_FILE]
    loaded = mlflow.pyfunc.load_model(info.model_uri)
    x = tiny_splits["test"].x[:5]
    np.testing.assert_allclose(
        probabilities_of(loaded.predict(x)),
        result.model.predict_on_batch(x),
        atol=1e-5,
    )
