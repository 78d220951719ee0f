import os
import pickle
import subprocess
import sys

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from mnist_mlops.errors import ModelLoadError
from mnist_mlops.serving.runtime.fast_model import (
    CLASSIFIERS,
    OnnxClassifier,
    load_classifier,
    onnx_classifier,
    pickled_class,
)
from mnist_mlops.serving.runtime.model_dir import local_model_dir
from mnist_mlops.serving.runtime.pyfunc import DigitClassifier, log_classifier
from tests.helpers.models import tiny_model, use_test_store

NAME = "mnist-classifier"


def register(model, alias: str | None = "champion") -> str:
    use_test_store()
    with mlflow.start_run():
        info = log_classifier(model, registered_model_name=NAME)
    if alias:
        MlflowClient().set_registered_model_alias(NAME, alias, info.registered_model_version)
    return info.registered_model_version


def test_the_onnx_path_answers_as_the_pyfunc_model(tiny_splits):
    register(tiny_model(tiny_splits["train"]))
    uri = f"models:/{NAME}@champion"
    fast = load_classifier(uri, os.environ["MLFLOW_TRACKING_URI"])
    assert isinstance(fast, OnnxClassifier)
    pyfunc = mlflow.pyfunc.load_model(uri)
    rows = tiny_splits["test"].x
    expected, got = pyfunc.predict(rows), fast.predict(rows)
    pd.testing.assert_frame_equal(got, expected)


def test_the_registry_is_read_afresh_each_time(tiny_splits):
    tracking = os.environ["MLFLOW_TRACKING_URI"]
    first = register(tiny_model(tiny_splits["train"], seed=0))
    second = register(tiny_model(tiny_splits["train"], seed=1), alias=None)
    client = MlflowClient()
    folder_of = {
        version: local_model_dir(f"models:/{NAME}/{version}", tracking)
        for version in (first, second)
    }
    assert folder_of[first] != folder_of[second] and None not in folder_of.values()
    download_uri = client.get_model_version_download_uri(NAME, second)
    assert folder_of[second].as_uri() == download_uri.rstrip("/")
    assert local_model_dir(f"models:/{NAME}@champion", tracking) == folder_of[first]
    client.set_registered_model_alias(NAME, "champion", second)  # moved: seen at once
    assert local_model_dir(f"models:/{NAME}@champion", tracking) == folder_of[second]
    rows = tiny_splits["test"].x[:5]
    moved = load_classifier(f"models:/{NAME}@champion", tracking).predict(rows)
    expected = mlflow.pyfunc.load_model(f"models:/{NAME}/{second}").predict(rows)
    pd.testing.assert_frame_equal(moved, expected)
    client.delete_registered_model_alias(NAME, "champion")
    assert local_model_dir(f"models:/{NAME}@champion", tracking) is None
    assert local_model_dir(str(folder_of[first]), None) == folder_of[first]  # a plain folder


def test_what_only_mlflow_can_resolve_is_left_to_it():
    register(tiny_model())
    tracking = os.environ["MLFLOW_TRACKING_URI"]
    assert local_model_dir(f"models:/{NAME}@champion", tracking) is not None
    for uri, registry in [
        (f"models:/{NAME}@latest", tracking),  # MLflow's own rule, not an alias row
        (f"models:/{NAME}/Production", tracking),  # a stage
        ("models:/m-0123456789abcdef", tracking),  # a logged model's id
        ("runs:/0123/model", tracking),
        (f"models:/{NAME}@champion", "http://127.0.0.1:5000"),  # a tracking server
        (f"models:/{NAME}@champion", "sqlite:///no/such/mlflow.db"),
        (f"models:/{NAME}@champion", None),
    ]:
        assert local_model_dir(uri, registry) is None, (uri, registry)


class PlainModel(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return np.zeros(len(model_input))


def test_other_models_are_loaded_by_mlflow(tiny_splits):
    use_test_store()
    with mlflow.start_run():
        info = mlflow.pyfunc.log_model(
            name="other", python_model=PlainModel(), registered_model_name=NAME
        )
    MlflowClient().set_registered_model_alias(NAME, "champion", info.registered_model_version)
    tracking = os.environ["MLFLOW_TRACKING_URI"]
    folder = local_model_dir(f"models:/{NAME}@champion", tracking)
    assert folder is not None and onnx_classifier(folder) is None
    model = load_classifier(f"models:/{NAME}@champion", tracking)
    assert not isinstance(model, OnnxClassifier)
    assert len(model.predict(tiny_splits["test"].x[:3])) == 3
    with pytest.raises(ModelLoadError, match="cannot load model models:/nope@champion"):
        load_classifier("models:/nope@champion", tracking)


def test_the_pickled_class_is_read_without_unpickling():
    assert pickled_class(pickle.dumps(DigitClassifier())) in CLASSIFIERS
    assert pickled_class(pickle.dumps(OnnxClassifier)) not in CLASSIFIERS
    assert pickled_class(pickle.dumps([1, 2])) is None


def test_a_resolved_model_answers_without_importing_mlflow_again(tiny_splits, tmp_path):
    register(tiny_model(tiny_splits["train"]))
    np.save(tmp_path / "rows.npy", tiny_splits["test"].x[:2])
    script = (
        "import sys; from mnist_mlops.serving.runtime.fast_model import load_classifier; "
        f"model = load_classifier('models:/{NAME}@champion', sys.argv[1]); "
        "import numpy; print(type(model).__name__, 'mlflow' in sys.modules, "
        "model.predict(numpy.load(sys.argv[2]))['digit'][0])"
    )
    env = os.environ | {"MLFLOW_TRACKING_URI": ""}
    expected = mlflow.pyfunc.load_model(f"models:/{NAME}@champion").predict(
        tiny_splits["test"].x[:2]
    )
    for imported in ("True", "False"):  # resolved by MLflow's client once, then kept
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                script,
                os.environ["MLFLOW_TRACKING_URI"],
                tmp_path / "rows.npy",
            ],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        assert done.stdout.split() == ["OnnxClassifier", imported, str(expected["digit"][0])]
