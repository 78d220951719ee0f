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
    # a row's windows (784 x 9 values) and convolution output (784 x 4), float32: 7 rows a chunk
    monkeypatch.setattr(convolution, "WINDOW_BUDGET_BYTES", 784 * (9 + 4) * 4 * 7)
    assert network._chunk_rows() == 7
    chunks = []
    forward = LayeredNetwork._forward
    monkeypatch.setattr(
        LayeredNetwork,
        "_forward",
        lambda self, values: chunks.append(len(values)) or forward(self, values),
    )
    chunked = network(rows)
    assert chunks == [7] * 7 + [1]
    # BLAS picks kernels by matrix shape: chunks agree with the whole batch to float32 rounding.
    np.testing.assert_allclose(chunked, whole, atol=1e-6)
    np.testing.assert_allclose(whole, model.predict_on_batch(rows), atol=2e-6)


def test_a_cnn_answers_one_row_and_an_empty_batch_like_the_dense_network():
    set_determinism(0)
    model = build_model(
        ModelConfig(kind="cnn", hidden_layers=[8], cnn=CnnConfig(filters=[2])), OptimizerConfig()
    )
    network = export_network(model)
    row = np.random.default_rng(4).random(784, dtype=np.float32)
    np.testing.assert_allclose(network(row), model.predict_on_batch(row[None]), atol=2e-6)
    assert network(np.zeros((0, 784), np.float32)).shape == (0, 10)


def test_mlp_networks_load_as_dense_networks(tmp_path):
    set_determinism(0)
    network = export_network(build_model(ModelConfig(hidden_layers=[8]), OptimizerConfig()))
    network.save(tmp_path / "net.npz")
    assert isinstance(load_network(tmp_path / "net.npz"), DenseNetwork)


@pytest.mark.parametrize(
    ("layers", "named"),
    [
        ([keras.layers.Conv2D(2, 3, strides=2)], "Conv2D"),
        ([keras.layers.Conv2D(2, 3, dilation_rate=2)], "Conv2D"),
        ([keras.layers.Conv2D(2, 1), keras.layers.Conv2D(2, 3, groups=2)], "Conv2D"),
        ([keras.layers.Conv2D(2, 3, padding="same", data_format="channels_first")], "Conv2D"),
        ([keras.layers.MaxPooling2D(2, strides=1)], "MaxPooling2D"),
        ([keras.layers.MaxPooling2D(2, padding="same")], "MaxPooling2D"),
        ([keras.layers.AveragePooling2D(2)], "AveragePooling2D"),
        (
            [keras.layers.Conv2D(2, 3), keras.layers.Flatten(data_format="channels_first")],
            "Flatten",
        ),
    ],
)
def test_convolutions_numpy_cannot_run_are_refused_by_name(layers, named):
    model = keras.Sequential(
        [
            keras.Input((784,)),
            keras.layers.Reshape((28, 28, 1)),
            *layers,
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    with pytest.raises(UnsupportedNetworkError, match=f"type {named} is not supported"):
        export_network(model)


def test_valid_padding_non_square_kernels_and_no_bias_match_keras():
    set_determinism(0)
    model = keras.Sequential(
        [
            keras.Input((784,)),
            keras.layers.Reshape((28, 28, 1)),
            keras.layers.Conv2D(3, 3, padding="valid", activation="relu"),
            keras.layers.Conv2D(2, (2, 3), padding="valid", use_bias=False, activation="tanh"),
            keras.layers.MaxPooling2D(3),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    rows = np.random.default_rng(5).random((6, 784), dtype=np.float32)
    np.testing.assert_allclose(export_network(model)(rows), model.predict_on_batch(rows), atol=2e-6)


def test_a_dense_layer_on_an_image_and_lora_layers_are_refused():
    on_image = keras.Sequential(
        [keras.Input((784,)), keras.layers.Reshape((28, 28, 1)), keras.layers.Dense(10)]
    )
    with pytest.raises(UnsupportedNetworkError, match="needs a Flatten before it"):
        export_network(on_image)
    dense = keras.layers.Dense(10, activation="softmax")
    lora = keras.Sequential([keras.Input((784,)), dense])
    dense.enable_lora(2)
    with pytest.raises(UnsupportedNetworkError, match="LoRA-enabled or quantized"):
        export_network(lora)
