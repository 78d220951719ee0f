"""The closed loop by a real `dvc repro`: digits drawn on the page in headless Chromium and
pictures sent over REST to a real ``mnist-mlops serve`` of the project's champion, corrected,
snapshotted, trained on, registered (gated on both splits) and served after SIGHUP."""

import base64
import io
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from mlflow import MlflowClient
from pipelines.prefect_server import free_port

from mnist_mlops.artifacts.feedback import FeedbackManifest
from mnist_mlops.artifacts.metrics import FeedbackMetrics, RegisterSummary
from mnist_mlops.artifacts.processed import FEEDBACK_TEST, ProcessedMeta, load_splits
from mnist_mlops.artifacts.runs import TrainedRunInfo
from mnist_mlops.config.paths import RELATIVE, ProjectPaths
from mnist_mlops.feedback.snapshot import load_snapshot
from mnist_mlops.feedback.store import PredictionRecord, PredictionStore
from mnist_mlops.registry.comparison import DISAGREEMENTS_ARTIFACT
from mnist_mlops.tracking.datasets import DIGEST_LENGTH, FEEDBACK_DATASET
from tests.helpers.browser import FOUR, SEVEN_STROKE, browser_page, chromium_binary, draw
from tests.helpers.digits import picture_bytes
from tests.helpers.feedback import uci_pictures
from tests.helpers.pipeline import ALWAYS_RUN, UNCACHED, stages_run
from tests.helpers.recorded import call, written
from tests.helpers.servers import MODEL_URI, answers_ping, started_process
from tests.helpers.workspace import commit, environment, run

pytestmark = pytest.mark.slow
NAME = "mnist-classifier"
SENT = 60  # pictures sent over REST, all labelled but the last
WAIT_MS = 60_000
RELOAD_TIMEOUT_S = 180
ONE_STROKE = ((0.50, 0.16), (0.48, 0.84))
ZERO_STROKE = tuple((0.5 + 0.2 * np.sin(t), 0.5 - 0.3 * np.cos(t)) for t in np.linspace(0, 6.4, 28))
# the true digit and its pen strokes
DRAWN = ((4, FOUR), (7, (SEVEN_STROKE,)), (1, (ONE_STROKE,)), (0, (ZERO_STROKE,)))


def rows(x: np.ndarray) -> set[bytes]:
    return {row.tobytes() for row in x}


def test_the_first_repro_has_an_empty_snapshot_and_no_feedback_split(pipeline):
    paths = pipeline.paths
    assert FeedbackManifest.load(paths.feedback_dir).entries == []
    assert ProcessedMeta.load(paths.processed_dir).feedback is None
    assert FeedbackMetrics.read(paths.feedback_metrics) == FeedbackMetrics()
    assert not (paths.root / "predictions.db").exists()  # reading no store creates none


@contextmanager
def project_server(project: Path, log: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """``mnist-mlops serve`` of the project's champion, on its MLflow and prediction stores
    (never the workspace's), as ``make serve`` starts it; output to ``log``."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    params = ["--params", str(project / "params.yaml")]
    command = ["mnist-mlops", *params, "serve", "-m", MODEL_URI, "-p", str(port)]
    with started_process(command, log, lambda: answers_ping(url), environment(project)) as server:
        yield url, server


def data_url_image(url: str) -> np.ndarray:
    """The 28x28 picture of an answer's ``image`` (``data:image/png;base64,...``)."""
    from PIL import Image

    with Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))) as image:
        return np.asarray(image.convert("L"))


def draw_and_correct(url: str) -> dict[str, tuple[int, np.ndarray]]:
    """Draw :data:`DRAWN` on the page; label each answer: "Right" when it is right, else
    "it is a ..." (and always for the last one). Returns ``{id: (label, picture seen)}``."""
    labelled = {}
    with browser_page() as page:
        page.goto(f"{url}/")
        page.wait_for_selector("#model[data-loaded=true]", timeout=WAIT_MS)
        assert page.locator("#model-version").inner_text() == "version 1"
        page.locator("#live").uncheck()  # one prediction per drawing, on Predict
        for index, (digit, strokes) in enumerate(DRAWN):
            page.locator("#clear").click()
            draw(page, strokes)
            with page.expect_response("**/predict/image") as answered:
                page.locator("#predict").click()
            page.wait_for_selector(
                f"#result[data-status=done][data-strokes='{len(strokes)}']", timeout=WAIT_MS
            )
            answer = answered.value.json()["predictions"][0]
            right = answer["digit"] == digit and index < len(DRAWN) - 1
            button = (
                page.locator("#right")
                if right
                else page.get_by_role("button", name=f"it is a {digit}", exact=True)
            )
            with page.expect_request("**/feedback") as sent:
                button.click()
            page.wait_for_selector(
                f"#feedback[data-status=stored][data-label='{digit}']", timeout=WAIT_MS
            )
            assert json.loads(sent.value.post_data) == {
                "prediction_id": answer["prediction_id"],
                "label": digit,
            }
            labelled[answer["prediction_id"]] = (digit, data_url_image(answer["image"]))
    return labelled


def send_and_correct(url: str, pictures: np.ndarray, labels: np.ndarray) -> dict[str, int]:
    """POST each picture (dark ink on white, 3x larger, as a user sends it) to /predict/image;
    label all but the last with POST /feedback (the first alone, the others in one batch)."""
    ids = []
    for picture in pictures:
        status, answer = call(
            f"{url}/predict/image", picture_bytes(255 - picture, scale=3), "image/png"
        )
        assert status == 200, answer
        ids.append(answer["predictions"][0]["prediction_id"])
    labelled = {i: int(label) for i, label in zip(ids[:-1], labels[:-1], strict=True)}
    first, *others = labelled.items()
    assert call(f"{url}/feedback", {"prediction_id": first[0], "label": first[1]})[0] == 200
    batch = {"feedback": [{"prediction_id": i, "label": label} for i, label in others]}
    assert call(f"{url}/feedback", batch) == (200, {"stored": len(others), **batch})
    return labelled


def check_snapshot_training_and_registry(
    project: Path, paths: ProjectPaths, labelled: list[PredictionRecord]
) -> None:
    """The snapshot holds exactly ``labelled``; version 2 trained on it and was gated on it."""
    manifest, images = load_snapshot(paths.feedback_dir)
    assert [e.prediction_id for e in manifest.entries] == [r.prediction_id for r in labelled]
    assert [e.label for e in manifest.entries] == [r.label for r in labelled]
    assert [e.predicted for e in manifest.entries] == [r.digit for r in labelled]
    np.testing.assert_array_equal(images, np.stack([r.image() for r in labelled]))
    assert RELATIVE["feedback_dir"] in (project / "dvc.lock").read_text()

    count = len(labelled)
    meta = ProcessedMeta.load(paths.processed_dir)  # the processed data: trained on them
    assert meta.feedback is not None and meta.feedback.sha256 == manifest.sha256
    assert meta.feedback.train + meta.feedback.test == count and meta.feedback.test >= 10
    splits = load_splits(paths.processed_dir, ("train", FEEDBACK_TEST))
    corrected = images.reshape(count, -1).astype(np.float32) / np.float32(255)
    in_train = np.array([row.tobytes() in rows(splits["train"].x) for row in corrected])
    in_test = np.array([row.tobytes() in rows(splits[FEEDBACK_TEST].x) for row in corrected])
    assert (in_train ^ in_test).all() and in_train.sum() == meta.feedback.train
    labels = np.array([r.label for r in labelled])
    assert sorted(splits[FEEDBACK_TEST].y.tolist()) == sorted(labels[in_test].tolist())

    store_uri = environment(project)["MLFLOW_TRACKING_URI"]
    client = MlflowClient(tracking_uri=store_uri, registry_uri=store_uri)
    train_run = client.get_run(TrainedRunInfo.read(paths.train_run).run_id)
    inputs = [i for i in train_run.inputs.dataset_inputs if i.dataset.name == FEEDBACK_DATASET]
    assert len(inputs) == 1  # the run names the snapshot it learned from
    assert inputs[0].dataset.digest == manifest.sha256[:DIGEST_LENGTH]
    tags = {tag.key: tag.value for tag in inputs[0].tags}
    assert tags["feedback.sha256"] == manifest.sha256 and tags["mlflow.data.context"] == "training"

    feedback = FeedbackMetrics.read(paths.feedback_metrics)  # dvc metrics show has it
    assert feedback.feedback_test_digits == meta.feedback.test
    shown = json.loads(run(project, "dvc", "metrics", "show", "--json"))
    assert json.dumps(shown).count('"feedback_accuracy"') == 1
    assert train_run.data.metrics["feedback_accuracy"] == pytest.approx(feedback.feedback_accuracy)

    summary = RegisterSummary.read(paths.register_metrics)  # registered, gated on both splits
    assert summary.version == "2" and summary.comparable and summary.champion_version == "1"
    assert summary.feedback_test_digits == meta.feedback.test
    assert summary.feedback_challenger_accuracy == pytest.approx(feedback.feedback_accuracy)
    assert summary.feedback_champion_accuracy is not None
    assert "feedback accuracy" in summary.reason and "max_test_drop" in summary.reason
    version = client.get_model_version(NAME, "2")
    assert version.run_id == train_run.info.run_id  # the version is the run that learned them
    card = version.description
    assert f"{meta.feedback.test} feedback test digits" in card
    assert "| feedback_test |" in card and "| test |" in card and DISAGREEMENTS_ARTIFACT in card
    logged = [a.path for a in client.list_artifacts(train_run.info.run_id, "register")]
    assert logged == [DISAGREEMENTS_ARTIFACT]
    aliases = client.get_registered_model(NAME).aliases
    assert str(aliases["champion"]) == ("2" if summary.promoted else "1")


def served_version_after_hangup(url: str, server: subprocess.Popen, log: Path) -> str:
    """SIGHUP ``server``, wait until its log says it reloaded; the version it serves then."""
    before = log.read_text().count("reloaded: serving")
    os.kill(server.pid, signal.SIGHUP)
    deadline = time.monotonic() + RELOAD_TIMEOUT_S
    while log.read_text().count("reloaded: serving") == before:
        assert time.monotonic() < deadline and server.poll() is None, log.read_text()[-3000:]
        time.sleep(0.3)
    return call(f"{url}/model-info")[1]["version"]


def test_drawn_and_sent_corrections_are_snapshotted_trained_on_gated_and_served(
    pipeline, project_clone, prefect_api
):
    chromium_binary()  # fail before anything starts when there is no browser
    paths = ProjectPaths(project_clone)
    commit(project_clone, "first pipeline run", *UNCACHED)
    pictures, labels = uci_pictures(SENT + 1)
    store_url = environment(project_clone)["MNIST_MLOPS_PREDICTIONS_STORE"]
    log = project_clone.parent / "server.log"
    with project_server(project_clone, log) as (url, server):
        assert f"recording served predictions in {store_url}" in log.read_text()
        drawn = draw_and_correct(url)
        sent = send_and_correct(url, pictures, labels)
        counts = written(url)
        assert counts["queued"] == 0 and not any(counts["dropped"].values()), counts

        store = PredictionStore(store_url)  # the project's store holds the labels given
        labelled: list[PredictionRecord] = store.labelled()
        assert len(store.recent()) == len(DRAWN) + SENT + 1  # and the unlabelled picture
        store.close()
        expected = {i: label for i, (label, _) in drawn.items()} | sent
        assert {r.prediction_id: r.label for r in labelled} == expected
        assert {r.model_version for r in labelled} == {"1"}
        by_id = {r.prediction_id: r for r in labelled}
        for prediction_id, (_, seen) in drawn.items():  # the drawn pixels, as the model saw them
            assert by_id[prediction_id].source == "page"
            np.testing.assert_array_equal(by_id[prediction_id].image(), seen)
        assert {by_id[i].source for i in sent} == {"picture"}

        output = run(project_clone, "dvc", "repro", PREFECT_API_URL=prefect_api)
        assert {"feedback", "preprocess", "train", "evaluate", "register"} <= set(
            stages_run(output)
        )
        check_snapshot_training_and_registry(project_clone, paths, labelled)

        summary = RegisterSummary.read(paths.register_metrics)
        champion = summary.version if summary.promoted else "1"
        assert served_version_after_hangup(url, server, log) == champion
        # a prediction of the new champion, recorded unlabelled: the next snapshot is the same
        assert call(f"{url}/predict/image", picture_bytes(255 - pictures[0]), "image/png")[0] == 200
        assert written(url)["queued"] == 0
    manifest = FeedbackManifest.load(paths.feedback_dir)
    again = run(project_clone, "dvc", "repro", PREFECT_API_URL=prefect_api)
    assert stages_run(again) == ALWAYS_RUN  # the same labels: the same snapshot, no retrain
    assert FeedbackManifest.load(paths.feedback_dir) == manifest
    store = PredictionStore(store_url)
    newest = store.recent(last=1)[0]
    store.close()
    assert (newest.model_version, newest.label) == (champion, None)
