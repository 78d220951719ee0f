"""Real server processes serving the registered champion over loopback.

``mnist-mlops serve`` (MLflow's scoring app behind the guard, ``make serve``) and
``mlflow models serve`` (MLflow's generic scoring server, ``make serve-mlflow``) get the
same good and bad requests; where they differ, the table says how.
"""

import json
import shutil
import urllib.error
import urllib.request

import httpx
import mlflow
import numpy as np
import pytest
from pipelines.prefect_server import free_port

from mnist_mlops.serving.pictures.images import read_digit_image
from mnist_mlops.serving.runtime.predictions import probabilities_of
from tests.helpers.digits import picture_bytes
from tests.helpers.predictions import record_digits, record_probabilities
from tests.helpers.servers import (
    MODEL_URI,
    NAME,
    guarded_command,
    register_champion,
    running_server,
    venv_path,
)

pytestmark = pytest.mark.slow
BODY_LIMIT_MB = 4


def request(url, body=None, content_type="application/json"):
    data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(req, timeout=60) as answer:
            return answer.status, answer.headers.get_content_type(), answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get_content_type(), error.read().decode()


def server_command(kind: str, port: int) -> list[str]:
    if kind == "mlflow":
        mlflow_cli = shutil.which("mlflow", path=venv_path())
        serve = [mlflow_cli, "models", "serve", "-m", MODEL_URI, "--env-manager", "local"]
        return [*serve, "-h", "127.0.0.1", "-p", str(port)]
    return guarded_command(port, "-w", "2", "--max-body-mb", str(BODY_LIMIT_MB))


@pytest.fixture(params=["mlflow", "guarded"])
def server(request, tiny_splits, tmp_path):
    version = register_champion(tiny_splits["train"])
    port = free_port()
    with running_server(server_command(request.param, port), port, tmp_path / "server.log") as url:
        yield request.param, url, version


def request_ok(url):
    return request(url)[0] == 200


def predictions(response):
    return json.loads(response)["predictions"]


def assert_same_predictions(response, expected, tolerance):
    answer = predictions(response)
    assert record_digits(answer) == expected["digit"].tolist()
    np.testing.assert_allclose(
        record_probabilities(answer), probabilities_of(expected), atol=tolerance
    )


def test_served_champion_matches_in_process_and_survives_bad_requests(server, tiny_splits):
    kind, url, version = server
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
        status, _, response = request(f"{url}/invocations", body)
        assert status == 200, (form, response)
        assert_same_predictions(response, expected, 1e-2 if form.startswith("raw") else 1e-6)

    images = {"inputs": raw.reshape(-1, 28, 28).tolist()}
    status, media, response = request(f"{url}/invocations", images)
    if kind == "guarded":  # 28x28 arrays, one or a batch
        assert status == 200, response
        assert_same_predictions(response, expected, 1e-2)
        one = request(f"{url}/invocations", {"instances": raw[0].reshape(28, 28).tolist()})
        assert one[0] == 200 and predictions(one[2])[0]["digit"] == expected["digit"][0]
    else:  # MLflow's tensor check admits one rank: (-1, 784)
        assert status == 400 and "shape" in response and media == "application/json"

    one_row = [0] * 784
    oversized = b'{"inputs": [' + b",".join([json.dumps(one_row).encode()] * 2000) + b"]}"
    assert len(oversized) > BODY_LIMIT_MB * 1024 * 1024
    bad = {
        "wrong shape": ({"inputs": [[0.5] * 100]}, "application/json", "shape"),
        "NaN": (b'{"inputs": [[NaN' + b",0" * 783 + b"]]}", "application/json", "finite"),
        "Infinity": (b'{"inputs": [[Infinity' + b",0" * 783 + b"]]}", "application/json", "finite"),
        "out of range": ({"inputs": [[300] + one_row[1:]]}, "application/json", "[0, 255]"),
        "strings": ({"inputs": [["seven"] + one_row[1:]]}, "application/json", "string"),
        "empty batch": (
            {"inputs": []},
            "application/json",
            "empty" if kind == "guarded" else "schema",
        ),
        "missing field": ({}, "application/json", "exactly one of the input fields"),
        "unknown field": ({"pixels": [one_row]}, "application/json", "input fields"),
        "non-JSON": (b"{inputs: oops", "application/json", "valid JSON"),
        "wrong content type": (b"seven", "text/plain", "content type"),
    }
    many = {"inputs": [one_row] * 1001}
    if kind == "guarded":  # MLflow's server has no body limit: it reads any size
        bad["oversized body"] = (oversized, "application/json", "larger than the limit")
        bad["too many digits"] = (many, "application/json", "at most 1000")
    else:  # the model itself scores any number of digits: MLflow's server passes them on
        status, _, response = request(f"{url}/invocations", many)
        assert status == 200 and len(predictions(response)) == 1001
    for case, (body, content_type, message) in bad.items():
        status, media, response = request(f"{url}/invocations", body, content_type)
        assert 400 <= status < 500, (case, status, response[-300:])
        assert message in response, (case, response[-300:])
        if kind == "guarded" or status != 415:  # MLflow answers a 415 in plain text
            assert media == "application/json" and json.loads(response)["message"], case
        assert request_ok(f"{url}/ping"), case
    # What MLflow's own server mishandles (the findings of 829c01b): the guard refuses it.
    digit = {"inputs": [one_row]}
    guarded_only = {
        "deep nesting": (b"[" * 100_000, "application/json", 400, "too deeply"),
        "unknown field beside inputs": (
            json.dumps({**digit, "pixels": 1}).encode(),
            "application/json",
            400,
            "unknown field 'pixels'",
        ),
        "no content type": (json.dumps(digit).encode(), None, 415, "no Content-Type header"),
        "duplicate keys": (b'{"inputs": [[0]], "inputs": [[1]]}', "application/json", 400, "twice"),
        "charset": (json.dumps(digit).encode(), "application/json; charset=latin-1", 415, "UTF-8"),
    }
    mlflow_status = {
        "deep nesting": 500,
        "unknown field beside inputs": 200,
        "no content type": 500,
    }
    for case, (body, content_type, status, message) in guarded_only.items():
        headers = {} if content_type is None else {"Content-Type": content_type}
        answer = httpx.post(f"{url}/invocations", content=body, headers=headers, timeout=60)
        if kind == "guarded":
            assert answer.status_code == status, (case, answer.text[-300:])
            assert answer.headers["content-type"] == "application/json", case
            assert message in answer.json()["message"], (case, answer.text[-300:])
        elif case in mlflow_status:
            assert answer.status_code == mlflow_status[case], (case, answer.text[-300:])
        assert request_ok(f"{url}/ping"), case
    status, _, response = request(f"{url}/invocations", good["inputs"])
    assert status == 200 and predictions(response)[0]["digit"] == expected["digit"][0]

    # Pictures: a PNG body and a multipart upload of a PNG and a JPEG (mnist-mlops serve only).
    png = picture_bytes(raw[0].reshape(28, 28), scale=5)
    status, media, response = request(f"{url}/invocations", png, "image/png")
    if kind == "mlflow":
        assert status == 415 and "content type" in response
        return
    assert status == 200, response
    model = mlflow.pyfunc.load_model(MODEL_URI)
    assert_same_predictions(response, model.predict(seen_rows(png)), 1e-6)
    jpeg = picture_bytes(raw[1].reshape(28, 28), "JPEG", scale=4)
    files = [("file", ("one.png", png, "image/png")), ("file", ("two.jpg", jpeg, "image/jpeg"))]
    upload = httpx.post(f"{url}/invocations", files=files, timeout=60)
    assert upload.status_code == 200, upload.text
    assert_same_predictions(upload.text, model.predict(seen_rows(png, jpeg)), 1e-6)
    status, media, response = request(f"{url}/invocations", b"GIF89a...", "image/png")
    assert status == 400 and media == "application/json" and "PNG" in response
    status, _, response = request(f"{url}/model-info")
    assert status == 200
    assert json.loads(response)["name"] == NAME and json.loads(response)["alias"] == "champion"
    assert json.loads(response)["version"] == version


def seen_rows(*pictures):
    """The rows the model is given for these pictures (normalised as the server does)."""
    return np.stack([read_digit_image(p).reshape(-1) for p in pictures]).astype(np.float32) / 255
