"""Load the registered classifier: its ONNX graph read from its folder, without MLflow if it can."""

from __future__ import annotations

import json
import logging
import os
import pickletools
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mnist_mlops.config.constants import INPUT_DIM
from mnist_mlops.errors import ModelLoadError
from mnist_mlops.serving.runtime.inputs import to_pixel_rows
from mnist_mlops.serving.runtime.model_dir import MLMODEL_FILE, local_model_dir
from mnist_mlops.serving.runtime.onnx_network import ONNX_ARTIFACT, OnnxNetwork
from mnist_mlops.serving.runtime.predictions import Classifier, digit_frame

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger(__name__)

PYFUNC_LOADER = "mlflow.pyfunc.model"  # the loader of every python model (a PythonModel)
CLASSIFIERS = {  # DigitClassifier, pickled by reference: where it lives, and where it lived
    ("mnist_mlops.serving.runtime.pyfunc", "DigitClassifier"),
    ("mnist_mlops.serving.pyfunc", "DigitClassifier"),
}
SIGNATURE_INPUTS = [
    {"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, INPUT_DIM]}}
]
STRING_OPCODES = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE"}


@dataclass(frozen=True)
class OnnxClassifier:
    """What the loaded pyfunc model does, on the model's own ONNX graph."""

    network: OnnxNetwork
    folder: Path

    def predict(self, data: Any) -> pd.DataFrame:
        """Return the digits' DataFrame (``digit``, ``probability_0`` ... ``probability_9``)."""
        return digit_frame(self.network(to_pixel_rows(data, max_rows=None)))


def pickled_class(data: bytes) -> tuple[str, str] | None:
    """Return the (module, name) of a pickle's first global (or ``None``), unpickling nothing."""
    strings: list[str] = []
    for opcode, argument, _ in pickletools.genops(data):
        if opcode.name in STRING_OPCODES:
            strings.append(str(argument))
        elif opcode.name == "STACK_GLOBAL":
            return (strings[-2], strings[-1]) if len(strings) >= 2 else None
        elif opcode.name == "GLOBAL":
            module, _, name = str(argument).partition(" ")
            return module, name
    return None


def onnx_classifier(folder: Path) -> OnnxClassifier | None:
    """Return the :class:`OnnxClassifier` of a model folder (holding ``MLmodel``), or ``None``.

    ``None`` unless the folder holds a pickled ``DigitClassifier`` whose only artifact is its
    ONNX graph and whose signature is the float32 ``(-1, 784)`` tensor (or on any error).
    """
    import yaml

    try:
        description = yaml.safe_load((folder / MLMODEL_FILE).read_text(encoding="utf-8"))
        flavor = description["flavors"]["python_function"]
        artifacts = flavor.get("artifacts") or {}
        signature = description.get("signature") or {}
        if (
            flavor.get("loader_module") != PYFUNC_LOADER
            or set(artifacts) != {ONNX_ARTIFACT}
            or json.loads(signature.get("inputs") or "null") != SIGNATURE_INPUTS
            or signature.get("params") is not None
            or pickled_class((folder / flavor["python_model"]).read_bytes()) not in CLASSIFIERS
        ):
            return None
        network = OnnxNetwork(folder / artifacts[ONNX_ARTIFACT]["path"])
    except Exception as exc:  # any surprise: MLflow's own loader decides, as before
        logger.debug("%s: not read directly (%s: %s)", folder, type(exc).__name__, exc)
        return None
    return OnnxClassifier(network, folder)


def registry_uri(tracking_uri: str | None) -> str | None:
    """Return the model registry MLflow would use with ``tracking_uri`` (``None``: unknown)."""
    if "mlflow" in sys.modules:  # already imported (and paid for): ask MLflow itself
        import mlflow

        if tracking_uri:
            mlflow.set_tracking_uri(tracking_uri)
        return mlflow.get_registry_uri()
    return (
        os.environ.get("MLFLOW_REGISTRY_URI")
        or tracking_uri
        or os.environ.get("MLFLOW_TRACKING_URI")
    )


def load_classifier(model_uri: str, tracking_uri: str | None = None) -> Classifier:
    """Load a digit classifier: :func:`onnx_classifier` of its folder, else MLflow's pyfunc.

    Args:
        model_uri: The model (``models:/mnist-classifier@champion``, a folder, ...).
        tracking_uri: The MLflow tracking store (also the registry unless
            ``MLFLOW_REGISTRY_URI`` says otherwise); ``None``: MLflow's default.

    Raises:
        ModelLoadError: The model cannot be loaded.
    """
    folder = local_model_dir(model_uri, registry_uri(tracking_uri))
    fast = onnx_classifier(folder) if folder is not None else None
    if fast is not None:
        logger.debug("%s: the ONNX graph in %s, without MLflow", model_uri, folder)
        return fast
    import mlflow.pyfunc
    from mlflow.exceptions import MlflowException

    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
    try:
        return mlflow.pyfunc.load_model(model_uri)
    except (MlflowException, OSError) as exc:
        raise ModelLoadError(f"cannot load model {model_uri}: {exc}") from None
