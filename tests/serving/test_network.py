import keras
import numpy as np
import pytest

from mnist_mlops.config.params import ModelConfig, OptimizerConfig
from mnist_mlops.errors import UnsupportedNetworkError
from mnist_mlops.serving.network import DenseNetwork, export_network
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
