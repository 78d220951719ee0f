import keras
import numpy as np
import pytest

from mnist_mlops.config.params import CnnConfig, ModelConfig, OptimizerConfig
from mnist_mlops.errors import UnsupportedNetworkError
from mnist_mlops.serving import convolution
from mnist_mlops.serving.convolution import LayeredNetwork
from mnist_mlops.serving.network import DenseNetwork, export_network, load_network
from mnist_mlops.training.model import build_model, set_determinism

ACTIVATIONS = ["relu", "sigmoid", "tanh", "leaky_relu", "elu", "selu", "gelu", "swish", "linear"]


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_numpy_forward_matches_keras(activation, tmp_path):
    set_determinism(0)
    model = build_model(
        ModelConfig(hidden_layers=[24, 12], activation=activation, dropout=0.2), OptimizerConfig()
    )
    rows = np.random.default_rng(1).random((16, 784), dtype=np.float32)
    network = export_network(model)
    network.save(tmp_path / "net.npz")
    loaded = DenseNetwork.load(tmp_path / "net.npz")
    expected = model.predict_on_batch(rows)
    np.testing.assert_allclose(loaded(rows), expected, atol=2e-6)
    assert loaded.activations == network.activations


def test_other_layers_are_refused():
    model = keras.Sequential(
        [keras.Input((784,)), keras.layers.BatchNormalization(), keras.layers.Dense(10)]
    )
    with pytest.raises(UnsupportedNetworkError, match="BatchNormalization"):
        export_network(model)


CNNS = [  # (cnn settings, activation, dropout): odd and even kernels, pooling 1-3
    (CnnConfig(filters=[3, 5], kernel_size=3, pool_size=2), "relu", 0.0),
    (CnnConfig(filters=[4], kernel_size=4, pool_size=3), "tanh", 0.3),
    (CnnConfig(filters=[2, 3, 2], kernel_size=1, pool_size=1), "elu", 0.0),
    (CnnConfig(filters=[3], kernel_size=6, pool_size=2), "gelu", 0.0),
]


@pytest.mark.parametrize(("cnn", "activation", "dropout"), CNNS)
def test_numpy_cnn_forward_matches_keras(cnn, activation, dropout, tmp_path):
    set_determinism(0)
    config = ModelConfig(
        kind="cnn", hidden_layers=[12], activation=activation, dropout=dropout, cnn=cnn
    )
    model = build_model(config, OptimizerConfig())
    rows = np.random.default_rng(2).random((9, 784), dtype=np.float32)
    network = export_network(model)
    assert isinstance(network, LayeredNetwork)
    network.save(tmp_path / "net.npz")
    loaded = load_network(tmp_path / "net.npz")
    np.testing.assert_allclose(loaded(rows), model.predict_on_batch(rows), atol=2e-6)
    assert [step.kind for step in loaded.steps] == [step.kind for step in network.steps]


def test_large_batches_are_computed_in_chunks_with_the_same_answers(monkeypatch):
    set_determinism(0)
    model = build_model(
        ModelConfig(kind="cnn", hidden_layers=[8], cnn=CnnConfig(filters=[4])), OptimizerConfig()
    )
    network = export_network(model)
    rows = np.random.default_rng(3).random((50, 784), dtype=np.float32)
    whole = network(rows)
    monkeypatch.setattr(convolution, "WINDOW_BUDGET_BYTES", 784 * 9 * 4 * 7)  # 7 rows a chunk
    assert network._chunk_rows() == 7
    # BLAS picks kernels by matrix shape: chunks agree with the whole batch to float32 rounding.
    np.testing.assert_allclose(network(rows), whole, atol=1e-6)
    np.testing.assert_allclose(whole, model.predict_on_batch(rows), atol=2e-6)


def test_mlp_networks_load_as_dense_networks(tmp_path):
    set_determinism(0)
    network = export_network(build_model(ModelConfig(hidden_layers=[8]), OptimizerConfig()))
    network.save(tmp_path / "net.npz")
    assert isinstance(load_network(tmp_path / "net.npz"), DenseNetwork)


@pytest.mark.parametrize(
    ("layer", "named"),
    [
        (keras.layers.Conv2D(2, 3, strides=2), "Conv2D"),
        (keras.layers.Conv2D(2, 3, dilation_rate=2), "Conv2D"),
        (keras.layers.MaxPooling2D(2, strides=1), "MaxPooling2D"),
        (keras.layers.AveragePooling2D(2), "AveragePooling2D"),
    ],
)
def test_convolutions_numpy_cannot_run_are_refused_by_name(layer, named):
    model = keras.Sequential(
        [
            keras.Input((784,)),
            keras.layers.Reshape((28, 28, 1)),
            layer,
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    with pytest.raises(UnsupportedNetworkError, match=f"type {named} is not supported"):
        export_network(model)
