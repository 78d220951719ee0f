"""The trained network as an ONNX graph: exported from Keras, checked, run by ONNX Runtime."""

from __future__ import annotations

import logging
import math
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mnist_mlops.config.constants import INPUT_DIM, NUM_CLASSES
from mnist_mlops.errors import ExportMismatchError, UnsupportedNetworkError

if TYPE_CHECKING:
    import keras

logger = logging.getLogger(__name__)

ONNX_ARTIFACT = "onnx_model"  # the logged classifier's artifact holding the graph ...
ONNX_FILE = "network.onnx"  # ... and its file
ONNX_TOLERANCE = 1e-5  # the largest |ONNX Runtime - Keras| allowed on any probability
CHUNK_ROWS = 256  # rows per ONNX Runtime call
CHECK_ROWS = 256  # digits compared when the caller gives none: seeded noise, then blanks
CHECK_SEED = 0


def export_onnx(model: keras.Model, path: str | Path) -> Path:
    """Write ``model``'s forward pass (``(N, 784)`` float32 rows in) to ONNX at ``path``.

    Raises:
        UnsupportedNetworkError: Keras (tf2onnx) cannot export the model.

    Returns:
        ``path``.
    """
    path = Path(path)
    try:
        model.predict_on_batch(np.zeros((1, INPUT_DIM), dtype=np.float32))  # exports need a call
        with warnings.catch_warnings(), _exportable_activations(model):
            warnings.simplefilter("ignore", FutureWarning)  # Keras' tf2onnx patch (np.object)
            model.export(str(path), format="onnx", verbose=False)
    except Exception as exc:  # tf2onnx raises many kinds; the message says what failed
        raise UnsupportedNetworkError(
            f"model {model.name!r} cannot be exported to ONNX: {type(exc).__name__}: {exc}"
        ) from exc
    return path


def _erf_gelu(x: Any) -> Any:
    """Keras' exact GELU written with erf: tf2onnx has ONNX's Erf, not the Erfc Keras uses."""
    import tensorflow as tf

    return 0.5 * x * (1.0 + tf.math.erf(x * (1.0 / math.sqrt(2.0))))


@contextmanager
def _exportable_activations(model: keras.Model) -> Iterator[None]:
    """Swap each layer's GELU for :func:`_erf_gelu` while the model is exported."""
    swapped = [
        layer
        for layer in model._flatten_layers(include_self=False)
        if getattr(getattr(layer, "activation", None), "__name__", None) == "gelu"
    ]
    originals = [layer.activation for layer in swapped]
    try:
        for layer in swapped:
            layer.activation = _erf_gelu
        yield
    finally:
        for layer, original in zip(swapped, originals, strict=True):
            layer.activation = original


def default_check_rows() -> np.ndarray:
    """Return the digits a check uses when none are given: seeded noise in [0, 1] and blanks."""
    rows = np.random.default_rng(CHECK_SEED).random((CHECK_ROWS, INPUT_DIM), dtype=np.float32)
    rows[-8:] = 0.0
    return rows


class OnnxNetwork:
    """An ONNX graph of a digit classifier, run by ONNX Runtime on the CPU in chunks."""

    def __init__(self, path: str | Path) -> None:
        """Open the graph at ``path`` (an :func:`export_onnx` file).

        Raises:
            UnsupportedNetworkError: The file is not an ONNX graph of one ``(N, 784)`` input
                and one ``(N, 10)`` output.
        """
        import onnxruntime

        self.path = Path(path)
        options = onnxruntime.SessionOptions()
        # Idle pool threads sleep instead of spinning: under concurrent requests a spinning
        # pool takes the cores the server's own threads need.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = onnxruntime.InferenceSession(
                str(self.path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # ORT raises its own Fail/InvalidGraph/NoSuchFile classes
            raise UnsupportedNetworkError(f"{self.path}: not an ONNX graph: {exc}") from None
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        if (
            len(inputs) != 1
            or len(outputs) != 1
            or inputs[0].shape[1:] != [INPUT_DIM]
            or outputs[0].shape[1:] != [NUM_CLASSES]
        ):
            raise UnsupportedNetworkError(
                f"{self.path}: expected one (N, {INPUT_DIM}) input and one (N, {NUM_CLASSES}) "
                f"output, got inputs {[i.shape for i in inputs]}, outputs "
                f"{[o.shape for o in outputs]}"
            )
        self.input_name = inputs[0].name

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        """Return the ``(N, 10)`` float32 probabilities of ``(N, 784)`` rows."""
        values = np.ascontiguousarray(rows, dtype=np.float32)
        if len(values) <= CHUNK_ROWS:
            return self.session.run(None, {self.input_name: values})[0]
        out = np.empty((len(values), NUM_CLASSES), dtype=np.float32)
        for start in range(0, len(values), CHUNK_ROWS):
            chunk = values[start : start + CHUNK_ROWS]
            out[start : start + len(chunk)] = self.session.run(None, {self.input_name: chunk})[0]
        return out


def exported_network(model: keras.Model) -> OnnxNetwork:
    """Export ``model`` to a temporary file and open it: its graph in memory, the file gone.

    Raises:
        UnsupportedNetworkError: Keras cannot export the model.
    """
    with tempfile.TemporaryDirectory(prefix="mnist-onnx-") as folder:
        return OnnxNetwork(export_onnx(model, Path(folder) / ONNX_FILE))


def check_export(
    network: OnnxNetwork,
    model: keras.Model,
    rows: np.ndarray | None = None,
    tolerance: float = ONNX_TOLERANCE,
) -> float:
    """Return the largest ``|ONNX Runtime - Keras|`` probability over ``rows``.

    ``rows``: ``(N, 784)`` digits in [0, 1]; ``None``: :func:`default_check_rows`.

    Raises:
        ExportMismatchError: A probability differs by more than ``tolerance`` (naming the
            digit, both values and the tolerance).
    """
    rows = default_check_rows() if rows is None else np.asarray(rows, dtype=np.float32)
    exported = network(rows)
    expected = np.concatenate(
        [
            np.asarray(model.predict_on_batch(rows[start : start + 1024]), dtype=np.float32)
            for start in range(0, len(rows), 1024)
        ]
    )
    if exported.shape != expected.shape:
        raise ExportMismatchError(
            f"the ONNX graph answers shape {exported.shape}, Keras {expected.shape}"
        )
    difference = np.abs(exported - expected)
    largest = float(difference.max()) if difference.size else 0.0
    if not largest <= tolerance:  # NaN fails too
        row, column = np.unravel_index(int(np.nanargmax(difference)), difference.shape)
        raise ExportMismatchError(
            f"the ONNX export of {model.name!r} does not match Keras: digit {row}, class "
            f"{column}: ONNX Runtime {exported[row, column]:.7g}, Keras "
            f"{expected[row, column]:.7g} (largest difference {largest:.3g} over {len(rows)} "
            f"digits; allowed {tolerance:g})"
        )
    logger.info(
        "ONNX export matches Keras on %d digits (largest difference %.2g)", len(rows), largest
    )
    return largest
