"""The registered model: an MLflow pyfunc that validates digits and runs their ONNX graph."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mlflow.pyfunc
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.pyfunc.model import PythonModel, PythonModelContext
from mlflow.types import ColSpec, DataType, Schema, TensorSpec

import mnist_mlops
from mnist_mlops.config.constants import INPUT_DIM
from mnist_mlops.errors import InputError
from mnist_mlops.serving.runtime.inputs import to_pixel_rows
from mnist_mlops.serving.runtime.onnx_network import (
    ONNX_ARTIFACT,
    ONNX_FILE,
    OnnxNetwork,
    check_export,
    export_onnx,
)
from mnist_mlops.serving.runtime.predictions import DIGIT_COLUMN, PROBABILITY_COLUMNS, digit_frame
from mnist_mlops.tracking.requirements import pinned_requirements

if TYPE_CHECKING:
    import keras
    from mlflow.models.model import ModelInfo

logger = logging.getLogger(__name__)

SIGNATURE = ModelSignature(
    inputs=Schema([TensorSpec(np.dtype(np.float32), (-1, INPUT_DIM))]),
    outputs=Schema(
        [
            ColSpec(DataType.long, DIGIT_COLUMN),
            *(ColSpec(DataType.float, column) for column in PROBABILITY_COLUMNS),
        ]
    ),
)
REQUIREMENTS = ("mlflow", "numpy", "pandas", "onnxruntime")


class DigitClassifier(PythonModel):
    """An MLflow pyfunc: digits (:func:`to_pixel_rows`) to their :func:`digit_frame`, via ONNX."""

    def load_context(self, context: PythonModelContext) -> None:
        """Open the model's ONNX graph.

        Raises:
            MlflowException: No ONNX graph (logged by an older mnist-mlops): register again.
        """
        if ONNX_ARTIFACT not in context.artifacts:
            raise MlflowException(
                f"this model has no ONNX graph (artifacts: {sorted(context.artifacts)}); it was "
                "logged by an older mnist-mlops: register it again (dvc repro -f register)"
            )
        self._network = OnnxNetwork(context.artifacts[ONNX_ARTIFACT])

    def predict(
        self,
        context: PythonModelContext | None,
        model_input: np.ndarray,
        params: dict[str, Any] | None = None,
    ) -> pd.DataFrame:
        """Return the :func:`~.predictions.digit_frame` of any number of digits.

        ``model_input`` is anything :func:`to_pixel_rows` accepts; its ``np.ndarray`` hint is
        one MLflow infers no schema from, so :data:`SIGNATURE` stays the model's signature.

        Raises:
            MlflowException: INVALID_PARAMETER_VALUE (HTTP 400) naming what is wrong.
        """
        try:
            rows = to_pixel_rows(model_input, max_rows=None)
        except InputError as exc:
            raise MlflowException(str(exc), error_code=INVALID_PARAMETER_VALUE) from None
        return digit_frame(self.probabilities(rows))

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        """Return the ``(N, 10)`` probabilities of rows :func:`to_pixel_rows` validated."""
        return self._network(rows)


def log_classifier(
    model: keras.Model,
    name: str = "model",
    registered_model_name: str | None = None,
    model_id: str | None = None,
    check_rows: np.ndarray | None = None,
    exported: Path | None = None,
) -> ModelInfo:
    """Log ``model`` as a :class:`DigitClassifier` (with this package) into the active run.

    ``registered_model_name`` also registers a version; ``model_id`` logs into that pending
    model. The export is checked on ``check_rows`` (``None``: seeded noise and blanks) before
    anything is logged, unless ``exported`` is a graph :func:`verified_export` wrote already.
    Returns MLflow's model info.

    Raises:
        UnsupportedNetworkError: The model cannot be exported to ONNX.
        ExportMismatchError: The export does not match Keras.
    """
    with tempfile.TemporaryDirectory(prefix="mnist-pyfunc-") as tmp:
        path = exported or verified_export(model, Path(tmp) / ONNX_FILE, check_rows)
        return mlflow.pyfunc.log_model(
            name=name,
            python_model=DigitClassifier(),  # pickled by reference to this module ...
            artifacts={ONNX_ARTIFACT: str(path)},
            code_paths=[str(Path(mnist_mlops.__file__).parent)],  # ... which the model carries
            signature=SIGNATURE,
            pip_requirements=pinned_requirements(REQUIREMENTS),
            registered_model_name=registered_model_name,
            model_id=model_id,
        )


def verified_export(model: keras.Model, path: Path, check_rows: np.ndarray | None) -> Path:
    """Export ``model`` to ONNX at ``path``, checked against Keras on ``check_rows``; return it.

    Raises:
        UnsupportedNetworkError, ExportMismatchError: As :func:`log_classifier`.
    """
    export_onnx(model, path)
    check_export(OnnxNetwork(path), model, check_rows)
    return path
