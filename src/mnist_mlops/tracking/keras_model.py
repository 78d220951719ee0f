"""A Keras model logged to MLflow with its signature, an input example and pinned requirements."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from mnist_mlops.tracking.requirements import pinned_requirements

if TYPE_CHECKING:
    import keras

REQUIREMENTS = ("mlflow", "keras", "tensorflow-cpu", "tensorflow", "numpy")


class _KerasFlavorWithExample:
    """``mlflow.keras`` whose ``save_model`` first creates the target folder.

    MLflow 3.17's Keras flavor writes the input example before it creates the model folder
    and fails with ``FileNotFoundError``; creating the folder first is all it needs.
    """

    __name__ = "mlflow.keras"

    @staticmethod
    def save_model(path: str, **kwargs: Any) -> None:
        import mlflow.keras

        os.makedirs(path, exist_ok=True)
        mlflow.keras.save_model(path=path, **kwargs)


def log_keras_model(model: keras.Model, input_example: Any, name: str = "model") -> str:
    """Log ``model`` to the active run, its signature inferred on ``input_example``; return its URI.

    Pip requirements are pinned to the installed versions; Keras' progress bar stays quiet.
    """
    import keras
    import numpy as np
    from mlflow.models import Model, infer_signature

    from mnist_mlops.native_stderr import verbose_requested

    # MLflow's check of the example would print Keras' progress bar: off unless verbose.
    interactive = keras.config.is_interactive_logging_enabled()
    if not verbose_requested():
        keras.config.disable_interactive_logging()
    try:
        example = np.asarray(input_example)
        return Model.log(
            artifact_path=None,
            name=name,
            flavor=_KerasFlavorWithExample,
            model=model,
            signature=infer_signature(example, np.asarray(model.predict_on_batch(example))),
            input_example=example,
            pip_requirements=pinned_requirements(REQUIREMENTS),
        ).model_uri
    finally:
        if interactive:
            keras.config.enable_interactive_logging()
