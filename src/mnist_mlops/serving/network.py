"""The trained MLP as plain NumPy matrices: a forward pass without Keras's per-call overhead.

Keras 3's ``model.predict`` costs tens of milliseconds per call even for one digit; the same
Dense layers as NumPy matrix products take microseconds. :func:`export_network` reads the
weights and activations of a Keras model made of Dense (and Dropout, an identity at
inference) layers; models with other layers raise :class:`UnsupportedNetworkError`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mnist_mlops.errors import UnsupportedNetworkError

if TYPE_CHECKING:
    import keras

SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805
LEAKY_RELU_SLOPE = 0.2  # Keras 3's default negative slope
NETWORK_ARTIFACT = "network"  # the logged classifier's artifact holding the saved network


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _elu(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))


def _gelu(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf  # exact GELU, as Keras 3's default (approximate=False)

    return (0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))).astype(x.dtype)


def _softmax(x: np.ndarray) -> np.ndarray:
    shifted = np.exp(x - x.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0),
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
    "leaky_relu": lambda x: np.where(x > 0, x, LEAKY_RELU_SLOPE * x),
    "elu": _elu,
    "selu": lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0))),
    "gelu": _gelu,
    "silu": lambda x: x * _sigmoid(x),
    "swish": lambda x: x * _sigmoid(x),
    "softmax": _softmax,
}


@dataclass(frozen=True)
class DenseNetwork:
    """Dense layers as ``(weights, bias, activation)`` triples applied in order."""

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    activations: tuple[str, ...]

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        """Return the output of the last layer (class probabilities) for ``(N, inputs)`` rows."""
        values = np.asarray(rows, dtype=np.float32)
        for weights, bias, activation in zip(
            self.weights, self.biases, self.activations, strict=True
        ):
            values = ACTIVATIONS[activation](values @ weights + bias)
        return values

    def save(self, path: str | Path) -> None:
        """Write the weights to a ``.npz`` file (no pickled objects)."""
        arrays = {f"weights_{i}": w for i, w in enumerate(self.weights)}
        arrays |= {f"bias_{i}": b for i, b in enumerate(self.biases)}
        arrays["activations"] = np.array(json.dumps(list(self.activations)))
        with open(path, "wb") as handle:
            np.savez(handle, allow_pickle=False, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> DenseNetwork:
        """Read a network written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as data:
            activations = tuple(json.loads(str(data["activations"])))
            count = len(activations)
            weights = tuple(data[f"weights_{i}"] for i in range(count))
            biases = tuple(data[f"bias_{i}"] for i in range(count))
        return cls(weights, biases, activations)


def export_network(model: keras.Model) -> DenseNetwork:
    """Read the Dense layers of a Keras model into a :class:`DenseNetwork`.

    Args:
        model: A Sequential model of Dense and Dropout layers.

    Returns:
        The same network as NumPy arrays.

    Raises:
        UnsupportedNetworkError: A layer other than Dense/Dropout/InputLayer, or an
            activation missing from :data:`ACTIVATIONS`.
    """
    weights, biases, activations = [], [], []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind in ("Dropout", "InputLayer"):
            continue
        if kind != "Dense":
            raise UnsupportedNetworkError(f"layer {layer.name!r} of type {kind} is not supported")
        activation = layer.get_config()["activation"]
        if not isinstance(activation, str) or activation not in ACTIVATIONS:
            raise UnsupportedNetworkError(
                f"layer {layer.name!r} has activation {activation!r}; "
                f"supported: {', '.join(sorted(ACTIVATIONS))}"
            )
        kernel, bias = layer.get_weights() if layer.use_bias else (layer.get_weights()[0], None)
        weights.append(np.asarray(kernel, dtype=np.float32))
        biases.append(
            np.zeros(kernel.shape[1], np.float32) if bias is None else bias.astype(np.float32)
        )
        activations.append(activation)
    if not weights:
        raise UnsupportedNetworkError("the model has no Dense layer")
    return DenseNetwork(tuple(weights), tuple(biases), tuple(activations))
