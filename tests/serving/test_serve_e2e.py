"""The real ``mlflow models serve`` process serving the registered champion over loopback."""

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient
from pipelines.with_prefect_server import free_port, stop_process_group

from mnist_mlops.serving.pyfunc import log_classifier
from tests.model_helpers import tiny_model, use_test_store

pytestmark = pytest.mark.slow
NAME = "mnist-classifier"
MODEL_URI = f"models:/{NAME}@champion"


def request(url, body=None, content_type="application/json"):
    data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(req, timeout=60) as answer:
            return answer.status, answer.headers.get_content_type(), answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get_content_type(), error.read().decode()


@pytest.fixture
def server(tiny_splits, tmp_path):
    use_test_store()
    with mlflow.start_run():
        info = log_classifier(tiny_model(tiny_splits["train"]), registered_model_name=NAME)
    MlflowClient().set_registered_model_alias(NAME, "champion", info.registered_model_version)
    port = free_port()
    # `mlflow models serve` execs `uvicorn`: the venv's scripts must be on PATH (make does this)
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    command = [
        shutil.which("mlflow", path=env["PATH"]),
        "models",
        "serve",
        "-m",
        MODEL_URI,
        "--env-manager",
        "local",
    ]
    command += ["-h", "127.0.0.1", "-p", str(port)]
    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        assert process.poll() is None, (tmp_path / "server.log").read_text()
        try:
            if request(f"{url}/ping")[0] == 200:
                break
        except OSError:
            time.sleep(0.5)
    else:
        pytest.fail("server did not answer /ping: " + (tmp_path / "server.log").read_text())
    yield url
    stop_process_group(process, timeout_s=30)
    log.close()


def predictions(response):
    return json.loads(response)["predictions"]


def test_served_champion_matches_in_process_and_survives_bad_requests(server, tiny_splits):
    x = tiny_splits["test"].x[:8]
    expected = mlflow.pyfunc.load_model(MODEL_URI).predict(x)
    raw = np.round(x * 255).astype(int)
    columns = [f"pixel{i}" for i in range(784)]
    good = {
        "inputs": {"inputs": x.tolist()},
        "instances": {"instances": x.tolist()},
        "dataframe_split": {"dataframe_split": {"columns": columns, "data": x.tolist()}},
        "raw 0-255 pixels": {"inputs": raw.tolist()},
    }
    for form, body in good.items():
        status, _, response = request(f"{server}/invocations", body)
        assert status == 200, (form, response)
        answer = predictions(response)
        assert [p["digit"] for p in answer] == [r["digit"] for r in expected], form
        tolerance = 1e-2 if form.startswith("raw") else 1e-6
        np.testing.assert_allclose(
            [p["probabilities"] for p in answer],
            [r["probabilities"] for r in expected],
            atol=tolerance,
        )

    one_row = [0.0] * 784
    bad = {
        "wrong shape": ({"inputs": [[0.5] * 100]}, "application/json", "expected shape"),
        "28x28 not flattened": ({"inputs": [[one_row[:28]] * 28]}, "application/json", "shape"),
        "NaN": (b'{"inputs": [[NaN' + b",0" * 783 + b"]]}", "application/json", "finite"),
        "Infinity": (b'{"inputs": [[Infinity' + b",0" * 783 + b"]]}", "application/json", "finite"),
        "out of range": ({"inputs": [[300] + one_row[1:]]}, "application/json", "[0, 255]"),
        "strings": ({"inputs": [["seven"] + one_row[1:]]}, "application/json", "string"),
        "empty batch": ({"inputs": []}, "application/json", "schema"),
        "missing field": ({}, "application/json", "exactly one of the input fields"),
        "unknown field": ({"pixels": [one_row]}, "application/json", "input fields"),
        "non-JSON": (b"{inputs: oops", "application/json", "valid JSON"),
        "wrong content type": (b"seven", "text/plain", "content types"),
        "oversized body": ({"inputs": [one_row] * 1001}, "application/json", "at most 1000"),
    }
    for case, (body, content_type, message) in bad.items():
        status, media, response = request(f"{server}/invocations", body, content_type)
        assert 400 <= status < 500, (case, status, response[-300:])
        assert message in response, (case, response[-300:])
        if status != 415:  # MLflow answers an unsupported content type in plain text
            assert media == "application/json" and json.loads(response)["message"], case
        assert request(f"{server}/ping")[0] == 200, case
    status, _, response = request(f"{server}/invocations", good["inputs"])
    assert status == 200 and predictions(response)[0]["digit"] == expected[0]["digit"]
