"""The draw-a-digit page in a real headless Chromium against a real ``mnist-mlops serve``.

Needs Debian's ``chromium`` (``.ci/run`` installs it); fails, never skips, without it.
``MNIST_MLOPS_PAGE_SCREENSHOT=path.png`` also saves a screenshot of the answered drawing.
"""

import json
import os

import mlflow
import numpy as np
import pytest
from pipelines.prefect_server import free_port

from mnist_mlops.serving.pictures.images import read_digit_image
from tests.helpers.browser import FOUR, SEVEN_STROKE, browser_page, chromium_binary, draw
from tests.helpers.digits import picture_bytes
from tests.helpers.predictions import record_probabilities
from tests.helpers.recorded import stored_rows
from tests.helpers.servers import (
    MODEL_URI,
    NAME,
    guarded_command,
    register_champion,
    running_server,
)

pytestmark = pytest.mark.slow
SCREENSHOT_ENV = "MNIST_MLOPS_PAGE_SCREENSHOT"
WAIT_MS = 60_000


@pytest.fixture
def server(tiny_splits, tmp_path):
    chromium_binary()  # fail before the server starts when there is no browser
    version = register_champion(tiny_splits["train"])
    port = free_port()
    with running_server(guarded_command(port), port, tmp_path / "server.log") as url:
        yield url, version


def expected_digit(model, picture: bytes) -> int:
    """What the served model answers for a picture, computed here from its bytes."""
    rows = read_digit_image(picture).reshape(1, -1).astype(np.float32) / 255
    return int(model.predict(rows)["digit"][0])


def canvas_png(page) -> bytes:
    """The canvas as the PNG the page sends (canvas.toBlob; Chromium does not show a blob body)."""
    script = """() => new Promise(done => document.getElementById("pad").toBlob(
        png => png.arrayBuffer().then(bytes => done(Array.from(new Uint8Array(bytes)))),
        "image/png"))"""
    return bytes(page.evaluate(script))


def shown_answer(page):
    """The digit, the bars' probabilities and the preview's size as the page shows them."""
    bars = page.locator("#bars rect")
    probabilities = [float(bars.nth(i).get_attribute("data-probability")) for i in range(10)]
    digits = [int(bars.nth(i).get_attribute("data-digit")) for i in range(10)]
    preview = page.locator("#seen")
    size = preview.evaluate("image => [image.naturalWidth, image.naturalHeight]")
    return int(page.locator("#digit").inner_text()), digits, probabilities, size, bars.count()


def check_answer(page, posted: dict, expected: int):
    digit, digits, probabilities, size, count = shown_answer(page)
    assert count == 10 and digits == list(range(10))
    assert sum(probabilities) == pytest.approx(1.0, abs=1e-4)
    assert digit == expected == int(np.argmax(probabilities))
    assert digit == posted["predictions"][0]["digit"]
    np.testing.assert_allclose(
        probabilities, record_probabilities(posted["predictions"])[0], atol=1e-6
    )
    assert size == [28, 28] and page.locator("#seen").is_visible()
    assert page.locator(".bars .best rect").get_attribute("data-digit") == str(digit)


def test_drawing_and_uploading_a_digit_show_the_models_answer(server, tmp_path):
    url, version = server
    model = mlflow.pyfunc.load_model(MODEL_URI)
    with browser_page() as page:
        page.goto(f"{url}/")
        page.wait_for_selector("#model[data-loaded=true]", timeout=WAIT_MS)
        assert page.locator("#model-name").inner_text() == NAME
        assert page.locator("#model-version").inner_text() == f"version {version}"
        assert page.locator("#model-alias").inner_text() == "@champion"
        assert page.locator("#predict").is_disabled()

        # Drawn stroke by stroke, then submitted with the Predict button.
        page.locator("#live").uncheck()
        draw(page, FOUR)
        with page.expect_request("**/predict/image") as sent:
            with page.expect_response("**/predict/image") as answered:
                page.locator("#predict").click()
        assert sent.value.headers["content-type"] == "image/png"
        page.wait_for_selector("#result[data-status=done][data-strokes='3']", timeout=WAIT_MS)
        png = canvas_png(page)
        assert png.startswith(b"\x89PNG")
        check_answer(page, answered.value.json(), expected_digit(model, png))
        if os.environ.get(SCREENSHOT_ENV):
            page.screenshot(path=os.environ[SCREENSHOT_ENV])

        # Predict after every stroke: one more stroke is answered without pressing Predict.
        page.locator("#live").check()
        with page.expect_response("**/predict/image") as answered:
            draw(page, [SEVEN_STROKE])
        page.wait_for_selector("#result[data-status=done][data-strokes='4']", timeout=WAIT_MS)
        png = canvas_png(page)
        check_answer(page, answered.value.json(), expected_digit(model, png))

        page.locator("#clear").click()
        assert page.locator("#digit").inner_text() == "?"
        assert page.locator("#bars rect").count() == 0 and not page.locator("#seen").is_visible()
        assert page.locator("#result").get_attribute("data-status") == "idle"

        # A PNG file chosen through the upload button goes as multipart/form-data.
        picture = picture_bytes(np.pad(np.full((60, 16), 230, np.uint8), 40), scale=2)
        upload = tmp_path / "my-digit.png"
        upload.write_bytes(picture)
        with page.expect_file_chooser() as chooser:
            page.locator("label[for=upload]").click()
        with page.expect_response("**/predict/image") as answered:
            chooser.value.set_files(str(upload))
        assert answered.value.request.headers["content-type"].startswith("multipart/form-data")
        page.wait_for_selector("#result[data-status=done][data-source=upload]", timeout=WAIT_MS)
        check_answer(page, answered.value.json(), expected_digit(model, picture))
        assert "my-digit.png" in page.locator("#source-note").inner_text()

        # Not a picture: the server's message is shown, the page keeps working.
        junk = tmp_path / "junk.png"
        junk.write_bytes(b"not a picture")
        page.locator("#upload").set_input_files(str(junk))
        page.wait_for_selector("#result[data-status=error]", timeout=WAIT_MS)
        message = page.locator("#error").inner_text()
        assert "junk.png: not a readable image" in message and "PNG or JPEG" in message
        assert json.loads(page.evaluate("fetch('/model-info').then(r => r.text())"))["name"] == NAME


def test_a_drawn_digit_is_corrected_with_it_is_a_3_and_stored(server, tmp_path):
    url, version = server
    with browser_page() as page:
        page.goto(f"{url}/")
        page.wait_for_selector("#model[data-loaded=true]", timeout=WAIT_MS)
        assert not page.locator("#feedback").is_visible()  # nothing answered yet
        with page.expect_response("**/predict/image") as answered:
            draw(page, FOUR)
        assert answered.value.request.headers["x-prediction-source"] == "page"
        page.wait_for_selector("#result[data-status=done]", timeout=WAIT_MS)
        answer = answered.value.json()["predictions"][0]
        assert page.locator("#digit").inner_text() == str(answer["digit"])
        assert page.locator("#feedback").is_visible()
        with page.expect_response("**/feedback") as stored:
            page.get_by_role("button", name="it is a 3").click()
        assert stored.value.status == 200
        page.wait_for_selector("#feedback[data-status=stored][data-label='3']", timeout=WAIT_MS)
        assert "it is a 3" in page.locator("#feedback-status").inner_text() or answer["digit"] == 3
        assert page.locator("#labels button").first.is_disabled()  # one label per answer

        # "Right" on the next answer stores the model's own digit.
        page.locator("#clear").click()
        assert not page.locator("#feedback").is_visible()
        with page.expect_response("**/predict/image") as answered:
            draw(page, [SEVEN_STROKE])
        page.wait_for_selector("#feedback:not([hidden])", timeout=WAIT_MS)
        second = answered.value.json()["predictions"][0]
        with page.expect_response("**/feedback"):
            page.locator("#right").click()
        page.wait_for_selector("#feedback[data-status=stored]", timeout=WAIT_MS)

    rows = stored_rows(tmp_path / "predictions.db")
    first = rows[answer["prediction_id"]]
    assert (first["label"], first["source"], first["model_version"]) == (3, "page", version)
    assert rows[second["prediction_id"]]["label"] == second["digit"]
