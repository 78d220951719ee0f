import json
import subprocess
import sys

import keras
import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.exceptions import MlflowException
from mlflow.pyfunc import scoring_server

from mnist_mlops.serving.runtime.onnx_network import ONNX_FILE
from mnist_mlops.serving.runtime.predictions import DIGIT_COLUMN, PROBABILITY_COLUMNS
from mnist_mlops.serving.runtime.pyfunc import (
    ONNX_ARTIFACT,
    SIGNATURE,
    DigitClassifier,
    log_classifier,
)
from tests.helpers.models import tiny_model, use_test_store


@pytest.fixture
def logged(tiny_splits):
    use_test_store()
    keras_model = tiny_model(tiny_splits["train"])
    with mlflow.start_run():
        info = log_classifier(keras_model)
    return keras_model, mlflow.pyfunc.load_model(info.model_uri)


def invoke(model, body, content_type="application/json"):
    """The scoring server's request handling, in process: (status, parsed JSON body)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    try:
        answer = scoring_server.invocations(
            data, content_type, model, model.metadata.get_input_schema()
        )
    except MlflowException as exc:
        return exc.get_http_status_code(), json.loads(exc.serialize_as_json())
    return answer.status, answer.response


def test_predictions_match_keras_in_every_request_form(logged, tiny_splits):
    keras_model, model = logged
    x = tiny_splits["test"].x[:6]
    expected = keras_model.predict_on_batch(x)
    raw = np.round(x * 255).astype(int).tolist()
    bodies = [
        {"inputs": x.tolist()},
        {"instances": x.tolist()},
        {"dataframe_split": {"columns": [f"pixel{i}" for i in range(784)], "data": x.tolist()}},
        {"inputs": raw},
    ]
    for body in bodies:
        status, response = invoke(model, body)
        assert status == 200, response
        predictions = json.loads(response)["predictions"]
        assert [p["digit"] for p in predictions] == expected.argmax(1).tolist()
        probabilities = np.array([[p[c] for c in PROBABILITY_COLUMNS] for p in predictions])
        np.testing.assert_allclose(
            probabilities, expected, atol=1e-2 if body is bodies[-1] else 1e-5
        )
        assert probabilities.shape == (6, 10)


BAD_REQUESTS = [
    ({"inputs": [[0.5] * 100]}, "does not match expected shape (-1, 784)"),
    ({"inputs": np.zeros((1, 28, 28)).tolist()}, "does not match expected shape (-1, 784)"),
    (b'{"inputs": [[NaN' + b", 0" * 783 + b"]]}", "values must be finite"),
    (b'{"inputs": [[Infinity' + b", 0" * 783 + b"]]}", "values must be finite"),
    ({"inputs": [[-3] + [0] * 783]}, "allowed: floats in [0, 1] or raw pixels in [0, 255]"),
    ({"inputs": [[256] + [0] * 783]}, "allowed: floats in [0, 1] or raw pixels in [0, 255]"),
    ({"inputs": [["seven"] + [0] * 783]}, "could not convert string to float"),
    ({"inputs": []}, "Failed to enforce schema"),
    ({}, "exactly one of the input fields"),
    ({"pixels": [[0] * 784]}, "exactly one of the input fields"),
    (b"this is not json", "valid JSON"),
]


def test_bad_requests_are_4xx_naming_the_problem(logged):
    model = logged[1]
    for body, message in BAD_REQUESTS:
        status, response = invoke(model, body)
        assert status == 400, (body, response)
        assert response["error_code"] in ("INVALID_PARAMETER_VALUE", "BAD_REQUEST")
        assert message in response["message"], (message, response["message"][-300:])
    status, response = invoke(model, b"digits", content_type="text/plain")
    assert status == 415 and "content types" in response
    status, _ = invoke(model, {"inputs": [[0.0] * 784]})
    assert status == 200


def test_any_exportable_layers_are_served_as_their_onnx_graph(tiny_splits, tmp_path):
    use_test_store()
    model = keras.Sequential(
        [keras.Input((784,)), keras.layers.BatchNormalization(), keras.layers.Dense(10, "softmax")]
    )
    with mlflow.start_run():
        info = log_classifier(model)
    mlflow.artifacts.download_artifacts(info.model_uri, dst_path=str(tmp_path))
    assert [p.name for p in (tmp_path / "artifacts").iterdir()] == [ONNX_FILE]
    requirements = (tmp_path / "requirements.txt").read_text()
    assert "onnxruntime==" in requirements and "tensorflow" not in requirements
    loaded = mlflow.pyfunc.load_model(info.model_uri)
    x = tiny_splits["test"].x[:4]
    answer = loaded.predict(x)
    assert list(answer.columns) == [DIGIT_COLUMN, *PROBABILITY_COLUMNS]
    np.testing.assert_allclose(
        answer[list(PROBABILITY_COLUMNS)].to_numpy(), model.predict_on_batch(x), atol=1e-5
    )


def test_a_dataframe_of_ten_thousand_digits_gets_columns_back(logged, tiny_splits):
    keras_model, model = logged
    x = np.resize(tiny_splits["test"].x, (10_000, 784))
    answer = model.predict(pd.DataFrame(x))
    assert isinstance(answer, pd.DataFrame) and len(answer) == 10_000
    assert answer[DIGIT_COLUMN].dtype == np.int64
    assert all(answer[c].dtype == np.float32 for c in PROBABILITY_COLUMNS)
    expected = keras_model.predict_on_batch(x)
    np.testing.assert_allclose(answer[list(PROBABILITY_COLUMNS)], expected, atol=1e-5)
    assert (answer[DIGIT_COLUMN] == expected.argmax(1)).all()
    raw = DigitClassifier.predict(model.unwrap_python_model(), None, np.round(x * 255))
    assert (raw[DIGIT_COLUMN] == answer[DIGIT_COLUMN]).mean() > 0.95  # raw 0-255 rows, unwrapped


def test_a_model_without_an_onnx_graph_names_the_fix(logged):
    classifier = logged[1].unwrap_python_model()
    old = mlflow.pyfunc.PythonModelContext(artifacts={"network": "network.npz"}, model_config={})
    with pytest.raises(MlflowException, match=r"no ONNX graph .*register it again"):
        classifier.load_context(old)
    assert ONNX_ARTIFACT != "network"


def test_the_model_carries_the_package_it_was_pickled_against(tiny_splits, tmp_path):
    use_test_store()
    with mlflow.start_run():
        info = log_classifier(tiny_model())
    folder = mlflow.artifacts.download_artifacts(info.model_uri, dst_path=str(tmp_path))
    meta = mlflow.models.Model.load(folder)
    assert meta.flavors["python_function"]["code"] == "code"
    assert (tmp_path / "code/mnist_mlops/serving/runtime/pyfunc.py").is_file()
    assert (tmp_path / "code/mnist_mlops/serving/runtime/onnx_network.py").is_file()


def test_importing_the_model_prints_no_type_hint_advice():
    probe = "import mnist_mlops.serving.runtime.pyfunc"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert "type hint" not in done.stderr.lower(), done.stderr


def test_the_logged_signature_is_the_tensor_one(logged):
    assert logged[1].metadata.signature == SIGNATURE
