import os
import pickle
import subprocess
import sys

import keras
import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient

from mnist_mlops.errors import ModelLoadError
from mnist_mlops.serving.fast_model import (
    CLASSIFIER,
    NumpyClassifier,
    load_classifier,
    numpy_classifier,
    pickled_class,
)
from mnist_mlops.serving.model_dir import local_model_dir
from mnist_mlops.serving.pyfunc import DigitClassifier, log_classifier
from tests.helpers.models import tiny_model, use_test_store

NAME = "mnist-classifier"


def register(model, alias: str | None = "champion") -> str:
    use_test_store()
    with mlflow.start_run():
        info = log_classifier(model, registered_model_name=NAME)
    if alias:
        MlflowClient().set_registered_model_alias(NAME, alias, info.registered_model_version)
    return info.registered_model_version


def test_the_numpy_path_answers_as_the_pyfunc_model(tiny_splits):
    register(tiny_model(tiny_splits["train"]))
    uri = f"models:/{NAME}@champion"
    fast = load_classifier(uri, os.environ["MLFLOW_TRACKING_URI"])
    assert isinstance(fast, NumpyClassifier)
    pyfunc = mlflow.pyfunc.load_model(uri)
    rows = tiny_splits["test"].x
    expected, got = pyfunc.predict(rows), fast.predict(rows)
    assert [r["digit"] for r in got] == [r["digit"] for r in expected]
    np.testing.assert_allclose(
        [r["probabilities"] for r in got], [r["probabilities"] for r in expected], rtol=1e-5
    )
    assert type(got[0]["digit"]) is int and type(got[0]["probabilities"][0]) is float


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
    np.testing.assert_allclose(
        [r["probabilities"] for r in moved], [r["probabilities"] for r in expected], rtol=1e-5
    )
    client.delete_registered_model_alias(NAME, "champion")
    assert local_model_dir(f"models:/{NAME}@champion", tracking) is None
    assert local_model_dir(str(folder_of[first]), None) == folder_of[first]  # a plain folder


def test_what_only_mlflow_can_resolve_is_left_to_it(monkeypatch):
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
    monkeypatch.setenv("MLFLOW_WORKSPACE", "team-a")  # MLflow's workspaces: rows of another
    assert local_model_dir(f"models:/{NAME}@champion", tracking) is None


def test_other_models_are_loaded_by_mlflow(tiny_splits):
    other = keras.Sequential(
        [keras.Input((784,)), keras.layers.BatchNormalization(), keras.layers.Dense(10, "softmax")]
    )
    register(other)  # logged with its Keras file: no NumPy network to read
    tracking = os.environ["MLFLOW_TRACKING_URI"]
    folder = local_model_dir(f"models:/{NAME}@champion", tracking)
    assert folder is not None and numpy_classifier(folder) is None
    model = load_classifier(f"models:/{NAME}@champion", tracking)
    assert not isinstance(model, NumpyClassifier)
    assert len(model.predict(tiny_splits["test"].x[:3])) == 3
    with pytest.raises(ModelLoadError, match="cannot load model models:/nope@champion"):
        load_classifier("models:/nope@champion", tracking)


def test_the_pickled_class_is_read_without_unpickling():
    assert pickled_class(pickle.dumps(DigitClassifier())) == CLASSIFIER
    assert pickled_class(pickle.dumps(NumpyClassifier)) != CLASSIFIER
    assert pickled_class(pickle.dumps([1, 2])) is None


def test_a_registered_model_answers_without_importing_mlflow(tiny_splits, tmp_path):
    register(tiny_model(tiny_splits["train"]))
    np.save(tmp_path / "rows.npy", tiny_splits["test"].x[:2])
    script = (
        "import sys; from mnist_mlops.serving.fast_model import load_classifier; "
        f"model = load_classifier('models:/{NAME}@champion', sys.argv[1]); "
        "import numpy; print(type(model).__name__, 'mlflow' in sys.modules, "
        "model.predict(numpy.load(sys.argv[2]))[0]['digit'])"
    )
    env = os.environ | {"MLFLOW_TRACKING_URI": ""}
    done = subprocess.run(
        [sys.executable, "-c", script, os.environ["MLFLOW_TRACKING_URI"], tmp_path / "rows.npy"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    expected = mlflow.pyfunc.load_model(f"models:/{NAME}@champion").predict(
        tiny_splits["test"].x[:2]
    )
    assert done.stdout.split() == ["NumpyClassifier", "False", str(expected[0]["digit"])]
