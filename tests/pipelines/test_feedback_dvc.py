"""The closed loop's data side by a real `dvc repro`: labelled predictions in the store, a
snapshot, a retrained and registered version that learned from them, gated on both splits."""

import json

import numpy as np
import pytest
from mlflow import MlflowClient

from mnist_mlops.artifacts.feedback import FeedbackManifest
from mnist_mlops.artifacts.metrics import FeedbackMetrics, RegisterSummary
from mnist_mlops.artifacts.processed import FEEDBACK_TEST, ProcessedMeta, load_splits
from mnist_mlops.artifacts.runs import TrainedRunInfo
from mnist_mlops.config.paths import RELATIVE, ProjectPaths
from mnist_mlops.feedback.store import PredictionStore
from mnist_mlops.registry.comparison import DISAGREEMENTS_ARTIFACT
from mnist_mlops.tracking.datasets import DIGEST_LENGTH, FEEDBACK_DATASET
from tests.helpers.feedback import labelled_predictions, uci_pictures
from tests.helpers.pipeline import ALWAYS_RUN, UNCACHED, stages_run
from tests.helpers.workspace import commit, environment, run

pytestmark = pytest.mark.slow
NAME = "mnist-classifier"
CORRECTIONS = 60


def rows(x: np.ndarray) -> set[bytes]:
    return {row.tobytes() for row in x}


def test_the_first_repro_has_an_empty_snapshot_and_no_feedback_split(pipeline):
    paths = pipeline.paths
    assert FeedbackManifest.load(paths.feedback_dir).entries == []
    assert ProcessedMeta.load(paths.processed_dir).feedback is None
    assert FeedbackMetrics.read(paths.feedback_metrics) == FeedbackMetrics(feedback_test_digits=0)
    assert not (paths.root / "predictions.db").exists()  # reading no store creates none


def test_corrections_are_snapshotted_trained_on_and_gate_the_new_version(
    pipeline, project_clone, prefect_api
):
    paths = ProjectPaths(project_clone)
    commit(project_clone, "first pipeline run", *UNCACHED)
    pictures, labels = uci_pictures(CORRECTIONS)
    store = PredictionStore(environment(project_clone)["MNIST_MLOPS_PREDICTIONS_STORE"])
    ids = labelled_predictions(store, pictures, labels)
    store.close()

    output = run(project_clone, "dvc", "repro", PREFECT_API_URL=prefect_api)
    assert {"feedback", "preprocess", "train", "evaluate", "register"} <= set(stages_run(output))

    manifest = FeedbackManifest.load(paths.feedback_dir)  # the snapshot: every correction
    assert [e.prediction_id for e in manifest.entries] == ids
    assert [e.label for e in manifest.entries] == labels.tolist()
    lock = (project_clone / "dvc.lock").read_text()
    assert RELATIVE["feedback_dir"] in lock

    meta = ProcessedMeta.load(paths.processed_dir)  # the processed data: trained on them
    assert meta.feedback is not None and meta.feedback.sha256 == manifest.sha256
    assert meta.feedback.train + meta.feedback.test == CORRECTIONS and meta.feedback.test >= 10
    splits = load_splits(paths.processed_dir, ("train", FEEDBACK_TEST))
    corrected = pictures.reshape(CORRECTIONS, -1).astype(np.float32) / np.float32(255)
    in_train = np.array([row.tobytes() in rows(splits["train"].x) for row in corrected])
    in_test = np.array([row.tobytes() in rows(splits[FEEDBACK_TEST].x) for row in corrected])
    assert (in_train ^ in_test).all() and in_train.sum() == meta.feedback.train
    assert sorted(splits[FEEDBACK_TEST].y.tolist()) == sorted(labels[in_test].tolist())

    store_uri = environment(project_clone)["MLFLOW_TRACKING_URI"]
    client = MlflowClient(tracking_uri=store_uri, registry_uri=store_uri)
    train_run = client.get_run(TrainedRunInfo.read(paths.train_run).run_id)
    inputs = [i for i in train_run.inputs.dataset_inputs if i.dataset.name == FEEDBACK_DATASET]
    assert len(inputs) == 1  # the run names the snapshot it learned from
    assert inputs[0].dataset.digest == manifest.sha256[:DIGEST_LENGTH]
    tags = {tag.key: tag.value for tag in inputs[0].tags}
    assert tags["feedback.sha256"] == manifest.sha256 and tags["mlflow.data.context"] == "training"

    feedback = FeedbackMetrics.read(paths.feedback_metrics)  # dvc metrics show has it
    assert feedback.feedback_test_digits == meta.feedback.test
    shown = json.loads(run(project_clone, "dvc", "metrics", "show", "--json"))
    assert json.dumps(shown).count('"feedback_accuracy"') == 1
    assert train_run.data.metrics["feedback_accuracy"] == pytest.approx(feedback.feedback_accuracy)

    summary = RegisterSummary.read(paths.register_metrics)  # registered, gated on both splits
    assert summary.version == "2" and summary.comparable
    assert summary.feedback_test_digits == meta.feedback.test
    assert summary.feedback_challenger_accuracy == pytest.approx(feedback.feedback_accuracy)
    assert summary.feedback_champion_accuracy is not None
    assert "feedback accuracy" in summary.reason and "max_test_drop" in summary.reason
    card = client.get_model_version(NAME, "2").description
    assert f"{meta.feedback.test} feedback test digits" in card
    assert "| feedback_test |" in card and "| test |" in card and DISAGREEMENTS_ARTIFACT in card
    logged = [a.path for a in client.list_artifacts(train_run.info.run_id, "register")]
    assert logged == [DISAGREEMENTS_ARTIFACT]

    again = run(project_clone, "dvc", "repro", PREFECT_API_URL=prefect_api)
    assert stages_run(again) == ALWAYS_RUN  # the same labels: the same snapshot, no retrain
    assert FeedbackManifest.load(paths.feedback_dir) == manifest
