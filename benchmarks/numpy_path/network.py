"""The former serving path (replaced by ONNX Runtime, issue 23), kept only to be measured.

The trained network as plain NumPy arrays: a forward pass without Keras's per-call overhead.

Keras 3's ``model.predict`` costs tens of milliseconds per call even for one digit; the same
layers as NumPy products take microseconds. :func:`export_network` reads a Keras model's
weights and activations: an MLP of Dense (and Dropout, an identity at inference) layers
becomes a :class:`DenseNetwork`; a CNN (Reshape, Conv2D, MaxPooling2D, Flatten, Dense) a
:class:`~mnist_mlops.serving.convolution.LayeredNetwork`. Models with other layers raise
:class:`UnsupportedNetworkError`. :func:`load_network` reads either kind back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from benchmarks.numpy_path.activations import ACTIVATIONS
from benchmarks.numpy_path.convolution import LayeredNetwork, Step
from mnist_mlops.errors import UnsupportedNetworkError

if TYPE_CHECKING:
    import keras

NETWORK_ARTIFACT = "network"  # the logged classifier's artifact holding the saved network
SKIPPED_LAYERS = ("Dropout", "InputLayer")  # identities at inference


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


Network = DenseNetwork | LayeredNetwork


def load_network(path: str | Path) -> Network:
    """Read a network saved by :meth:`DenseNetwork.save` or :meth:`LayeredNetwork.save`."""
    with np.load(path, allow_pickle=False) as data:
        layered = "layers" in data
    return LayeredNetwork.load(path) if layered else DenseNetwork.load(path)


def _activation(layer: keras.layers.Layer) -> str:
    activation = layer.get_config()["activation"]
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise UnsupportedNetworkError(
            f"layer {layer.name!r} has activation {activation!r}; "
            f"supported: {', '.join(sorted(ACTIVATIONS))}"
        )
    return activation


def _weights(layer: keras.layers.Layer) -> tuple[np.ndarray, np.ndarray]:
    """Return a Dense or Conv2D layer's kernel and bias (zeros without bias) as float32."""
    if getattr(layer, "lora_enabled", False) or getattr(layer, "quantization_mode", None):
        raise UnsupportedNetworkError(
            f"layer {layer.name!r} is LoRA-enabled or quantized: its kernel is not one array"
        )
    kernel = np.asarray(layer.get_weights()[0], dtype=np.float32)
    bias = layer.get_weights()[1] if layer.use_bias else np.zeros(kernel.shape[-1])
    return kernel, np.asarray(bias, dtype=np.float32)


def _step(layer: keras.layers.Layer) -> Step:
    """Return the :class:`Step` of one Keras layer, or raise for what NumPy does not do here."""
    kind, config = type(layer).__name__, layer.get_config()
    plain = config.get("data_format", "channels_last") in ("channels_last", None)
    if kind == "Dense":
        return Step("dense", *_weights(layer), activation=_activation(layer))
    shape = tuple(config.get("target_shape", ()))
    if kind == "Reshape" and len(shape) == 3 and all(size > 0 for size in shape):
        return Step("image", shape=shape)
    if kind == "Flatten" and plain:
        return Step("flatten")
    if (
        kind == "Conv2D"
        and plain
        and tuple(config["strides"]) == (1, 1)
        and tuple(config["dilation_rate"]) == (1, 1)
        and config.get("groups", 1) == 1
        and config["padding"] in ("same", "valid")
    ):
        return Step("conv", *_weights(layer), _activation(layer), padding=config["padding"])
    pool = tuple(config.get("pool_size", ()))
    if (
        kind == "MaxPooling2D"
        and plain
        and len(set(pool)) == 1
        and tuple(config["strides"]) == pool
        and config["padding"] == "valid"
    ):
        return Step("pool", size=pool[0])
    raise UnsupportedNetworkError(
        f"layer {layer.name!r} of type {kind} is not supported (Dense, Dropout, Reshape to an "
        "image (height, width, channels), and channels last: Conv2D with stride and dilation "
        "1, square MaxPooling2D with strides equal to its size, Flatten)"
    )


def _check_order(steps: list[Step]) -> None:
    """Refuse convolutions or pooling before an image, and Dense layers on an image."""
    image = False
    for step in steps:
        if step.kind in ("conv", "pool") and not image:
            raise UnsupportedNetworkError(
                f"a {step.kind} layer needs a Reshape to an image before it"
            )
        if step.kind == "dense" and image:
            raise UnsupportedNetworkError("a Dense layer on an image needs a Flatten before it")
        image = step.kind in ("image", "conv", "pool") or (image and step.kind != "flatten")


def export_network(model: keras.Model) -> Network:
    """Read the layers of a Keras model into a :class:`DenseNetwork` or a ``LayeredNetwork``.

    Args:
        model: A Sequential model: Dense and Dropout layers (an MLP), or Reshape, Conv2D,
            MaxPooling2D, Flatten, Dropout and Dense layers (a CNN, channels last).

    Returns:
        The same network as NumPy arrays.

    Raises:
        UnsupportedNetworkError: Another layer (or a Conv2D with strides, dilation, groups,
            channels first; a LoRA-enabled or quantized layer), layers in an order NumPy does
            not follow here, or an activation missing from
            :data:`~mnist_mlops.serving.activations.ACTIVATIONS`.
    """
    steps = [_step(layer) for layer in model.layers if type(layer).__name__ not in SKIPPED_LAYERS]
    if not any(step.kind == "dense" for step in steps):
        raise UnsupportedNetworkError("the model has no Dense layer")
    _check_order(steps)
    if all(step.kind == "dense" for step in steps):
        return DenseNetwork(
            tuple(step.weights for step in steps),  # type: ignore[misc]
            tuple(step.bias for step in steps),  # type: ignore[misc]
            tuple(step.activation for step in steps),
        )
    return LayeredNetwork(tuple(steps))
