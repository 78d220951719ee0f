"""The trained CNN as NumPy arrays: convolution, max-pooling and dense layers without Keras.

``model.kind: cnn`` (:func:`~mnist_mlops.training.model.convolution_blocks`) is Reshape ->
(Conv2D + MaxPooling2D) blocks -> Flatten -> Dense layers. :class:`LayeredNetwork` runs the
same steps on ``(N, height, width, channels)`` arrays (Keras' channels-last layout, so that
flattening gives the Dense layers their inputs in Keras' order): a convolution is one matrix
product over the image's windows copied into one matrix (im2col), a pooling a reshape and
a maximum. Batches are cut into chunks so that the windows and outputs of a large request
stay small.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmarks.numpy_path.activations import ACTIVATIONS

WINDOW_BUDGET_BYTES = 64 * 2**20  # the most one chunk may copy and compute (windows + output)


@dataclass(frozen=True)
class Step:
    """One layer of a :class:`LayeredNetwork`.

    ``kind`` is ``image`` (reshape rows to ``shape``), ``conv`` (``weights`` of shape
    ``(kh, kw, in, out)``, ``bias``, ``activation``, ``padding`` ``same`` or ``valid``),
    ``pool`` (``size`` x ``size`` max-pooling, stride ``size``), ``flatten`` or ``dense``
    (``weights`` ``(in, out)``, ``bias``, ``activation``).
    """

    kind: str
    weights: np.ndarray | None = field(default=None, repr=False)
    bias: np.ndarray | None = field(default=None, repr=False)
    activation: str = "linear"
    padding: str = "valid"
    size: int = 1
    shape: tuple[int, ...] = ()

    def description(self) -> dict:
        """Return the step's non-array fields (stored as JSON beside the arrays)."""
        return {
            "kind": self.kind,
            "activation": self.activation,
            "padding": self.padding,
            "size": self.size,
            "shape": list(self.shape),
        }


def convolve(images: np.ndarray, kernel: np.ndarray, bias: np.ndarray, padding: str) -> np.ndarray:
    """Return the stride-1 2-D convolution of ``(N, H, W, C)`` images (Keras' Conv2D).

    ``same`` padding pads ``k - 1`` zeros per axis, the smaller half first (as TensorFlow
    does for even kernels). The windows are copied once, in the kernel's ``(kh, kw, C)``
    order, into one matrix multiplied by the kernel (im2col: about twice as fast as a
    ``tensordot`` over a sliding-window view, measured on single digits).
    """
    k_h, k_w, channels, filters = kernel.shape
    if padding == "same":
        top, left = (k_h - 1) // 2, (k_w - 1) // 2
        images = np.pad(images, ((0, 0), (top, k_h - 1 - top), (left, k_w - 1 - left), (0, 0)))
    count, height, width = images.shape[0], images.shape[1] - k_h + 1, images.shape[2] - k_w + 1
    columns = np.empty((count, height, width, k_h, k_w, channels), dtype=np.float32)
    for row in range(k_h):
        for column in range(k_w):
            columns[:, :, :, row, column] = images[:, row : row + height, column : column + width]
    flat = columns.reshape(count * height * width, k_h * k_w * channels)
    product = flat @ kernel.reshape(k_h * k_w * channels, filters) + bias
    return product.reshape(count, height, width, filters)


def max_pool(images: np.ndarray, size: int) -> np.ndarray:
    """Return the ``size`` x ``size`` max-pooling (stride ``size``, valid) of ``(N, H, W, C)``."""
    count, height, width, channels = images.shape
    rows, columns = height // size, width // size
    cropped = images[:, : rows * size, : columns * size]
    return cropped.reshape(count, rows, size, columns, size, channels).max(axis=(2, 4))


@dataclass(frozen=True)
class LayeredNetwork:
    """A network of :class:`Step` objects applied in order to ``(N, inputs)`` rows."""

    steps: tuple[Step, ...]

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        """Return the output of the last layer (class probabilities) for ``(N, inputs)`` rows."""
        values = np.atleast_2d(np.asarray(rows, dtype=np.float32))
        chunk = self._chunk_rows()
        if len(values) <= chunk:
            return self._forward(values)
        return np.concatenate(
            [self._forward(values[start : start + chunk]) for start in range(0, len(values), chunk)]
        )

    def _chunk_rows(self) -> int:
        """Rows per chunk: the largest convolution's windows and output fit the budget."""
        largest, shape = 1, None
        for step in self.steps:
            if step.kind == "image":
                shape = step.shape
            elif step.kind == "conv" and shape is not None and step.weights is not None:
                k_h, k_w, channels, filters = step.weights.shape
                per_row = shape[0] * shape[1] * (channels * k_h * k_w + filters) * 4
                largest = max(largest, per_row)
                shape = (shape[0], shape[1], filters)
            elif step.kind == "pool" and shape is not None:
                shape = (shape[0] // step.size, shape[1] // step.size, shape[2])
        return max(1, WINDOW_BUDGET_BYTES // largest)

    def _forward(self, values: np.ndarray) -> np.ndarray:
        for step in self.steps:
            if step.kind == "image":
                values = values.reshape(len(values), *step.shape)
            elif step.kind == "conv":
                assert step.weights is not None and step.bias is not None
                convolved = convolve(values, step.weights, step.bias, step.padding)
                values = ACTIVATIONS[step.activation](convolved).astype(np.float32, copy=False)
            elif step.kind == "pool":
                values = max_pool(values, step.size)
            elif step.kind == "flatten":
                values = values.reshape(len(values), int(np.prod(values.shape[1:])))
            else:  # dense
                assert step.weights is not None and step.bias is not None
                values = ACTIVATIONS[step.activation](values @ step.weights + step.bias)
        return values

    def save(self, path: str | Path) -> None:
        """Write the steps to a ``.npz`` file (no pickled objects)."""
        arrays: dict[str, np.ndarray] = {
            "layers": np.array(json.dumps([step.description() for step in self.steps]))
        }
        for index, step in enumerate(self.steps):
            if step.weights is not None and step.bias is not None:
                arrays[f"weights_{index}"], arrays[f"bias_{index}"] = step.weights, step.bias
        with open(path, "wb") as handle:
            np.savez(handle, allow_pickle=False, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> LayeredNetwork:
        """Read a network written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as data:
            steps = []
            for index, description in enumerate(json.loads(str(data["layers"]))):
                has_weights = f"weights_{index}" in data
                steps.append(
                    Step(
                        kind=description["kind"],
                        weights=data[f"weights_{index}"] if has_weights else None,
                        bias=data[f"bias_{index}"] if has_weights else None,
                        activation=description["activation"],
                        padding=description["padding"],
                        size=int(description["size"]),
                        shape=tuple(description["shape"]),
                    )
                )
        return cls(tuple(steps))
