"""The ONNX export: Keras parity over the model kinds, refusals, and the graph's own checks."""

import keras
import numpy as np
import pytest

from mnist_mlops.config.constants import ACTIVATIONS
from mnist_mlops.config.params import CnnConfig, ModelConfig, OptimizerConfig
from mnist_mlops.errors import ExportMismatchError, UnsupportedNetworkError
from mnist_mlops.serving.runtime.onnx_network import (
    CHUNK_ROWS,
    ONNX_TOLERANCE,
    OnnxNetwork,
    check_export,
    default_check_rows,
    export_onnx,
)
from mnist_mlops.training.model import build_model, set_determinism

MODELS = {
    "course mlp": ModelConfig(hidden_layers=[32]),
    "two layers, sigmoid, dropout": ModelConfig(
        hidden_layers=[16, 8], activation="sigmoid", dropout=0.2
    ),
    "gelu": ModelConfig(hidden_layers=[8], activation="gelu"),
    "cnn": ModelConfig(kind="cnn", hidden_layers=[8], cnn=CnnConfig(filters=[4, 8])),
    "cnn kernel 4, elu, pool 3": ModelConfig(
        kind="cnn",
        hidden_layers=[8],
        activation="elu",
        cnn=CnnConfig(filters=[3], kernel_size=4, pool_size=3),
    ),
    **{
        activation: ModelConfig(hidden_layers=[8], activation=activation)
        for activation in ACTIVATIONS
        if activation not in ("relu", "sigmoid", "gelu")
    },
}


@pytest.mark.parametrize("config", MODELS.values(), ids=MODELS.keys())
def test_the_graph_answers_as_keras_for_every_model_kind(config, tmp_path, tiny_splits):
    set_determinism(0)
    model = build_model(config, OptimizerConfig())
    network = OnnxNetwork(export_onnx(model, tmp_path / "model.onnx"))
    rows = np.concatenate([tiny_splits["test"].x, default_check_rows()])
    assert len(rows) > CHUNK_ROWS  # more than one ONNX Runtime call
    largest = check_export(network, model, rows)
    assert largest <= ONNX_TOLERANCE
    np.testing.assert_allclose(network(rows), model.predict_on_batch(rows), atol=ONNX_TOLERANCE)
    assert network(rows[:1]).shape == (1, 10) and network(rows).dtype == np.float32


def test_a_graph_of_another_model_is_refused_naming_the_difference(tmp_path):
    set_determinism(0)
    model = build_model(MODELS["course mlp"], OptimizerConfig())
    set_determinism(1)
    other = build_model(MODELS["course mlp"], OptimizerConfig())
    network = OnnxNetwork(export_onnx(other, tmp_path / "other.onnx"))
    with pytest.raises(ExportMismatchError, match=r"does not match Keras: digit \d+, class \d"):
        check_export(network, model)
    with pytest.raises(ExportMismatchError, match="allowed 1e-05"):
        check_export(network, model, default_check_rows()[:3])


def test_files_that_are_not_a_digit_graph_are_refused(tmp_path):
    (tmp_path / "junk.onnx").write_bytes(b"not a graph")
    with pytest.raises(UnsupportedNetworkError, match="not an ONNX graph"):
        OnnxNetwork(tmp_path / "junk.onnx")
    wide = keras.Sequential([keras.Input((784,)), keras.layers.Dense(3, "softmax")])
    with pytest.raises(UnsupportedNetworkError, match=r"one \(N, 784\) input and one \(N, 10\)"):
        OnnxNetwork(export_onnx(wide, tmp_path / "three.onnx"))


def test_a_model_keras_cannot_export_is_refused(tmp_path):
    class Eager(keras.layers.Layer):
        def call(self, inputs):
            return keras.ops.convert_to_numpy(inputs)  # not traceable into a graph

    model = keras.Sequential([keras.Input((784,)), Eager(), keras.layers.Dense(10, "softmax")])
    with pytest.raises(UnsupportedNetworkError, match="cannot be exported to ONNX"):
        export_onnx(model, tmp_path / "eager.onnx")
    assert not (tmp_path / "eager.onnx").exists()
