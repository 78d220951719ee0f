"""The guarded scoring app in process (Starlette's test client): fast path, limits, fallback,
pictures, the page, /model-info, and fuzzed requests."""

import base64
import io
import json

import mlflow
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from mlflow.pyfunc import scoring_server
from PIL import Image
from starlette.testclient import TestClient

from mnist_mlops.config.constants import MAX_IMAGE_PIXELS
from mnist_mlops.serving.http.app import GuardedScoringApp
from mnist_mlops.serving.http.page import read_page_file
from mnist_mlops.serving.pictures.images import read_digit_image
from mnist_mlops.serving.runtime.model_info import ServedModel
from mnist_mlops.serving.runtime.predictions import probabilities_of
from mnist_mlops.serving.runtime.pyfunc import log_classifier
from tests.helpers.digits import make_digits, picture_bytes
from tests.helpers.models import tiny_model, use_test_store
from tests.helpers.predictions import record_digits, record_probabilities
from tests.helpers.request_fuzz import check_answer, headers_for, requests

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


def post(client, body, content_type="application/json", path="/invocations"):
    """POST ``body`` (bytes, or a value sent as JSON); ``content_type=None``: no such header."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(path, content=data, headers=headers_for(content_type))


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
    assert record_digits(batch) == expected["digit"].tolist()
    assert single[0]["digit"] == expected["digit"][0]
    np.testing.assert_allclose(record_probabilities(batch), probabilities_of(expected), atol=1e-2)


def test_other_forms_go_to_mlflows_app_with_the_body_replayed(client, model, tiny_splits):
    x = tiny_splits["test"].x[:3]
    columns = [f"pixel{i}" for i in range(784)]
    split = post(client, {"dataframe_split": {"columns": columns, "data": x.tolist()}})
    assert split.status_code == 200
    assert record_digits(split.json()["predictions"]) == model.predict(x)["digit"].tolist()
    with_params = post(client, {"inputs": x.tolist(), "params": {}})
    assert with_params.status_code == 200 and len(with_params.json()["predictions"]) == 3
    unknown = post(client, {"pixels": x.tolist()})
    assert unknown.status_code == 400 and "input fields" in unknown.json()["message"]
    # The media type is checked case-insensitively and handed to MLflow's app normalised.
    shouted = post(
        client, {"dataframe_split": {"data": x.tolist()}}, "APPLICATION/JSON; Charset=UTF-8"
    )
    assert shouted.status_code == 200 and len(shouted.json()["predictions"]) == 3
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
        (b"[" * 100_000, "application/json", 400, "nests arrays and objects too deeply"),
        (b'{"inputs": [[1e400' + b", 0" * 783 + b"]]}", "application/json", 400, "finite"),
        (b'{"dataframe_split": {"data": [[1e400]]}}', "application/json", 400, "64-bit float"),
        (b'{"inputs": [[0]], "inputs": [[1]]}', "application/json", 400, "appears twice"),
        ({"inputs": [[0.5] * 784], "pixels": 1}, "application/json", 400, "unknown field"),
        (b'{"inputs": "caf\xe9"}', "application/json", 400, "not UTF-8"),
        (b"seven", "text/plain", 415, "allowed: application/json"),
        (b"seven", "", 415, "unsupported content type"),
        (b"{}", None, 415, "no Content-Type header; allowed: application/json"),
        (b"{}", "application/json; charset=latin-1", 415, "must be UTF-8"),
        (b"a\n1", "text/csv; header=present", 415, "parameter 'header=present'"),
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


def pictures_of(tiny_splits, count):
    images = np.round(tiny_splits["test"].x[:count] * 255).astype(np.uint8).reshape(-1, 28, 28)
    return [picture_bytes(image, scale=5) for image in images]


def test_a_png_body_gets_the_answer_of_its_normalised_pixels_as_json(client, tiny_splits):
    png = pictures_of(tiny_splits, 1)[0]
    answer = post(client, png, "image/png")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    as_json = post(client, {"inputs": read_digit_image(png).tolist()})
    assert answer.json() == as_json.json()


def test_an_upload_of_several_files_gets_one_record_per_file_in_order(client, tiny_splits):
    pngs = pictures_of(tiny_splits, 3)
    files = [("file", (f"{i}.png", png, "image/png")) for i, png in enumerate(pngs)]
    answer = client.post("/invocations", files=files)
    assert answer.status_code == 200, answer.text
    as_json = post(client, {"inputs": [read_digit_image(png).tolist() for png in pngs]})
    assert answer.json() == as_json.json()


def test_predict_image_adds_each_name_and_the_28x28_image_the_model_saw(client, tiny_splits):
    pngs = pictures_of(tiny_splits, 2)
    files = [("file", ("first.png", pngs[0], "image/png")), ("file", ("b.png", pngs[1], "x/y"))]
    records = client.post("/predict/image", files=files).json()["predictions"]
    plain = client.post("/invocations", files=files).json()["predictions"]
    assert [r["name"] for r in records] == ["first.png", "b.png"]
    for record, png, expected in zip(records, pngs, plain, strict=True):
        assert {k: v for k, v in record.items() if k not in ("name", "image")} == expected
        encoded = record["image"].removeprefix("data:image/png;base64,")
        seen = np.asarray(Image.open(io.BytesIO(base64.b64decode(encoded))))
        np.testing.assert_array_equal(seen, read_digit_image(png))
    one = post(client, pngs[0], "image/png", path="/predict/image").json()["predictions"]
    assert one[0]["name"] == "request body" and one[0]["digit"] == plain[0]["digit"]


@pytest.mark.parametrize(
    ("path", "body", "content_type", "status", "message"),
    [
        ("/invocations", b"GIF89a", "image/png", 400, "allowed: PNG or JPEG"),
        ("/predict/image", b"", "image/jpeg", 400, "body is empty"),
        ("/predict/image", b"--x\r\n", "multipart/form-data", 400, "boundary"),
        ("/predict/image", b"{}", "application/json", 415, "allowed: image/png, image/jpeg"),
        ("/predict/image", b"\x89PNG" * LIMIT, "image/png", 413, f"limit of {LIMIT} bytes"),
        ("/invocations", b"x" * (LIMIT + 1), "multipart/form-data; boundary=x", 413, "limit"),
    ],
)
def test_bad_pictures_get_json_errors(client, path, body, content_type, status, message):
    answer = post(client, body, content_type, path=path)
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/json"
    assert message in answer.json()["message"]
    assert client.get("/ping").status_code == 200


def test_a_picture_with_too_many_pixels_gets_413(client):
    side = int(MAX_IMAGE_PIXELS**0.5) + 1
    answer = post(client, picture_bytes(np.zeros((side, side), np.uint8)), "image/png")
    assert answer.status_code == 413 and f"{side}x{side} pixels" in answer.json()["message"]


def test_model_info_names_the_served_model_and_its_run(model):
    served = ServedModel("models:/digits@champion", "models:/digits/4", "digits", "4", "champion")
    with TestClient(GuardedScoringApp(model, LIMIT, served)) as client:
        info = client.get("/model-info")
        assert info.status_code == 200 and info.headers["content-type"] == "application/json"
        assert info.json() == {**served.as_dict(), "run_id": model.metadata.run_id}
        assert len(model.metadata.run_id) == 32
    with TestClient(GuardedScoringApp(model, LIMIT)) as client:
        assert client.get("/model-info").json()["name"] is None


def test_the_page_and_its_files_are_served_from_the_package(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert (
        "<canvas" in page.text and "default-src 'self'" in page.headers["content-security-policy"]
    )
    for path, kind in (("/static/app.js", "text/javascript"), ("/static/style.css", "text/css")):
        assert f'"{path}"' in page.text
        answer = client.get(path)
        assert answer.status_code == 200 and answer.headers["content-type"].startswith(kind)
        assert answer.content == read_page_file(path.rsplit("/", 1)[1]) != b""
    head = client.head("/")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(page.content))
    for missing in ("/static/nope.js", "/static/%2e%2e/app.py", "/static/index.html"):
        answer = client.get(missing)
        assert answer.status_code == 404 and answer.json()["error_code"] == "NOT_FOUND", missing
    assert client.get("/ping").status_code == 200


@pytest.fixture(scope="module")
def shared_client(model):
    """One client for every example of the fuzz test below."""
    with TestClient(GuardedScoringApp(model, max_body_bytes=LIMIT)) as test_client:
        yield test_client


@pytest.mark.slow  # ~10 s on 2 cores
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=requests)
def test_fuzzed_requests_get_json_answers_never_a_5xx(shared_client, drawn):
    """Malformed JSON, deep nesting, huge numbers, duplicate keys, mutated bytes, random
    content types: through the guard and MLflow's app behind it, always a JSON answer."""
    path, body, content_type = drawn
    answer = shared_client.post(path, content=body, headers=headers_for(content_type))
    check_answer(answer.status_code, answer.headers.get("content-type", ""), answer.content)
    assert shared_client.get("/ping").status_code == 200
