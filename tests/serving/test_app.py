"""The guarded scoring app in process (Starlette's test client): fast path, limits, fallback."""

import json

import mlflow
import numpy as np
import pytest
from mlflow.pyfunc import scoring_server
from starlette.testclient import TestClient

from mnist_mlops.serving.app import GuardedScoringApp
from mnist_mlops.serving.pyfunc import log_classifier
from tests.helpers.digits import make_digits
from tests.helpers.models import tiny_model, use_test_store

LIMIT = 256 * 1024  # 5 digits of full-precision floats are ~80 KB


@pytest.fixture(scope="module")
def tiny_splits():
    """One set of synthetic splits for the module (the model below is trained once)."""
    from mnist_mlops.config.params import PreprocessConfig
    from mnist_mlops.data.preprocess import make_splits
    from mnist_mlops.data.raw import RawDataset

    images, labels = make_digits(per_class=30)
    return make_splits(RawDataset(images, labels), PreprocessConfig(test_fraction=0.2))


@pytest.fixture(scope="module")
def model(tiny_splits, tmp_path_factory):
    """A logged and loaded classifier, shared by the module's tests (a store of its own)."""
    store = tmp_path_factory.mktemp("store")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{store / 'mlflow.db'}")
        use_test_store()
        with mlflow.start_run():
            info = log_classifier(tiny_model(tiny_splits["train"]))
        return mlflow.pyfunc.load_model(info.model_uri)


@pytest.fixture
def client(model):
    with TestClient(GuardedScoringApp(model, max_body_bytes=LIMIT)) as test_client:
        yield test_client


def post(client, body, content_type="application/json"):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post("/invocations", content=data, headers={"Content-Type": content_type})


def mlflow_answer(model, body):
    """What MLflow's own request handling answers for ``body`` (the reference)."""
    data = json.dumps(body).encode()
    schema = model.metadata.get_input_schema()
    return json.loads(scoring_server.invocations(data, "application/json", model, schema).response)


def test_fast_path_answers_exactly_as_mlflow_and_accepts_images(client, model, tiny_splits):
    x = tiny_splits["test"].x[:5]
    for field in ("inputs", "instances"):
        answer = post(client, {field: x.tolist()})
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/json"
        assert answer.json() == mlflow_answer(model, {"inputs": x.tolist()})
    images = np.round(x * 255).reshape(-1, 28, 28)
    batch = post(client, {"inputs": images.tolist()}).json()["predictions"]
    single = post(client, {"instances": images[0].tolist()}).json()["predictions"]
    expected = model.predict(x)
    assert [p["digit"] for p in batch] == [r["digit"] for r in expected]
    assert single[0]["digit"] == expected[0]["digit"]
    np.testing.assert_allclose(
        [p["probabilities"] for p in batch], [r["probabilities"] for r in expected], atol=1e-2
    )


def test_other_forms_go_to_mlflows_app_with_the_body_replayed(client, model, tiny_splits):
    x = tiny_splits["test"].x[:3]
    columns = [f"pixel{i}" for i in range(784)]
    split = post(client, {"dataframe_split": {"columns": columns, "data": x.tolist()}})
    assert split.status_code == 200
    assert [p["digit"] for p in split.json()["predictions"]] == [
        r["digit"] for r in model.predict(x)
    ]
    with_params = post(client, {"inputs": x.tolist(), "params": {}})
    assert with_params.status_code == 200 and len(with_params.json()["predictions"]) == 3
    unknown = post(client, {"pixels": x.tolist()})
    assert unknown.status_code == 400 and "input fields" in unknown.json()["message"]
    assert client.get("/ping").status_code == 200
    assert client.get("/version").text == mlflow.__version__


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        (b"{inputs: oops", "application/json", 400, "not valid JSON"),
        (b"\xff\xfe", "application/json", 400, "not valid JSON"),
        ({"inputs": [[0.5] * 100]}, "application/json", 400, "shape (1, 100)"),
        ({"inputs": []}, "application/json", 400, "empty"),
        ({"instances": [["seven"] * 784]}, "application/json", 400, "got strings"),
        ({"inputs": [[-1] * 784]}, "application/json", 400, "[0, 255]"),
        (b"seven", "text/plain", 415, "allowed: application/json"),
        (b"seven", "", 415, "unsupported content type"),
        (b" " * (LIMIT + 1), "application/json", 413, f"limit of {LIMIT} bytes"),
    ],
)
def test_rejections_are_json_and_name_the_problem(client, body, content_type, status, message):
    answer = post(client, body, content_type)
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/json"
    assert message in answer.json()["message"]
    assert answer.json()["error_code"]


def test_a_streamed_body_over_the_limit_is_refused_without_a_length(client):
    def chunks():
        for _ in range(8):
            yield b" " * (LIMIT // 4)

    answer = client.post(
        "/invocations", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 413 and "limit" in answer.json()["message"]
