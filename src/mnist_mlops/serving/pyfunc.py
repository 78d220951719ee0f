"""The registered model: an MLflow pyfunc that carries its preprocessing and a fast forward pass.

Request forms (MLflow's scoring protocol, JSON body):

* ``{"inputs": [[784 values], ...]}`` and ``{"instances": [[784 values], ...]}``
* ``{"dataframe_split": {"columns": [784 names], "data": [[784 values], ...]}}``

Each row holds either floats in [0, 1] or raw 0-255 pixels: a row whose largest value is
above 1 is divided by 255 (see :mod:`mnist_mlops.serving.inputs`). The signature, enforced
by MLflow before :meth:`DigitClassifier.predict` runs, is one float32 tensor of shape
``(-1, 784)``: to ``mlflow models serve`` a 28x28 image is sent as its 784 pixels row by row
(``image.reshape(-1)``); ``mnist-mlops serve`` (:mod:`mnist_mlops.serving.app`) flattens
``(28, 28)`` and ``(N, 28, 28)`` arrays before MLflow's check, and
:meth:`DigitClassifier.predict` called directly takes them too. The answer has one record per digit,
``{"digit": 7, "probabilities": [10 floats]}`` (a list of such dicts in Python). Bad input
raises ``MlflowException(INVALID_PARAMETER_VALUE)``: the scoring server answers HTTP 400.
"""

from __future__ import annotations

import logging
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mlflow.pyfunc
import numpy as np
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.pyfunc.model import PythonModel, PythonModelContext
from mlflow.types import ColSpec, DataType, Schema, TensorSpec
from mlflow.types.schema import Array

import mnist_mlops
from mnist_mlops.artifacts.trained import MODEL_FILE
from mnist_mlops.config.constants import INPUT_DIM
from mnist_mlops.errors import InputError, UnsupportedNetworkError
from mnist_mlops.serving.inputs import to_pixel_rows
from mnist_mlops.serving.network import NETWORK_ARTIFACT, export_network, load_network
from mnist_mlops.serving.predict import digit_records
from mnist_mlops.tracking.requirements import pinned_requirements

if TYPE_CHECKING:
    import keras
    from mlflow.models.model import ModelInfo

logger = logging.getLogger(__name__)

KERAS_ARTIFACT = "keras_model"
SIGNATURE = ModelSignature(
    inputs=Schema([TensorSpec(np.dtype(np.float32), (-1, INPUT_DIM))]),
    outputs=Schema(
        [ColSpec(DataType.long, "digit"), ColSpec(Array(DataType.double), "probabilities")]
    ),
)
REQUIREMENTS = ("mlflow", "numpy", "pandas", "scipy", "tensorflow-cpu")


# The signature is the explicit tensor one above, not type hints: silence MLflow's advice.
warnings.filterwarnings("ignore", message="Add type hints to the `predict` method")


class DigitClassifier(PythonModel):
    """Validate and scale digits, run the network, return each digit and its probabilities."""

    def load_context(self, context: PythonModelContext) -> None:
        """Load the NumPy network (or, for layers it cannot express, the Keras model)."""
        self._forward: Callable[[np.ndarray], np.ndarray]
        if NETWORK_ARTIFACT in context.artifacts:
            self._forward = load_network(context.artifacts[NETWORK_ARTIFACT])
        else:
            import keras

            model = keras.models.load_model(context.artifacts[KERAS_ARTIFACT], compile=False)
            self._forward = lambda rows: np.asarray(model.predict_on_batch(rows))

    # ``model_input`` and ``params`` carry no type hints on purpose: MLflow 3 would derive a
    # type-hint signature from them and replace the tensor signature above.
    def predict(self, context, model_input, params=None) -> list[dict[str, Any]]:
        """Return one ``{"digit": int, "probabilities": [10 floats]}`` record per row.

        (:func:`~mnist_mlops.serving.predict.digit_records`; ``mnist-mlops predict`` computes
        the same without MLflow, :mod:`mnist_mlops.serving.fast_model`.)

        Raises:
            MlflowException: INVALID_PARAMETER_VALUE (HTTP 400) naming what is wrong.
        """
        try:
            rows = to_pixel_rows(model_input)
        except InputError as exc:
            raise MlflowException(str(exc), error_code=INVALID_PARAMETER_VALUE) from None
        return digit_records(self._forward(rows))


def log_classifier(
    model: keras.Model,
    name: str = "model",
    registered_model_name: str | None = None,
    model_id: str | None = None,
) -> ModelInfo:
    """Log ``model`` as a :class:`DigitClassifier` into the active MLflow run.

    The course's MLP and ``model.kind: cnn`` networks are stored as NumPy arrays
    (``network.npz``, :mod:`mnist_mlops.serving.network`); any other model is stored as
    ``model.keras`` and called with ``predict_on_batch``.

    Args:
        model: The trained Keras model.
        name: The logged model's name.
        registered_model_name: Also register a new version of this registered model.
        model_id: Log into this pending logged model (:func:`mlflow.initialize_logged_model`)
            instead of a new one.

    Returns:
        MLflow's model info (``model_uri``, ``registered_model_version``, ...).
    """
    with tempfile.TemporaryDirectory(prefix="mnist-pyfunc-") as tmp:
        try:
            path = Path(tmp) / "network.npz"
            export_network(model).save(path)
            artifacts = {NETWORK_ARTIFACT: str(path)}
        except UnsupportedNetworkError as exc:
            logger.warning("%s: serving through Keras predict_on_batch", exc)
            path = Path(tmp) / MODEL_FILE  # named as the train stage's Keras file
            model.save(path)
            artifacts = {KERAS_ARTIFACT: str(path)}
        return mlflow.pyfunc.log_model(
            name=name,
            python_model=DigitClassifier(),  # pickled by reference to mnist_mlops.serving.pyfunc
            artifacts=artifacts,
            # The model carries the package it is pickled against: it loads and serves without
            # this checkout, and an old version keeps the serving code it was registered with.
            code_paths=[str(Path(mnist_mlops.__file__).parent)],
            signature=SIGNATURE,
            pip_requirements=pinned_requirements(REQUIREMENTS),
            registered_model_name=registered_model_name,
            model_id=model_id,
        )
