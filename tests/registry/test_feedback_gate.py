"""The promotion gated on the test split and the feedback test split, and what the card shows."""

from pathlib import Path

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient

from mnist_mlops.artifacts.processed import FEEDBACK_TEST, FeedbackUsed, ProcessedMeta, Split
from mnist_mlops.config.params import RegisterConfig
from mnist_mlops.registry.comparison import (
    DISAGREEMENTS_ARTIFACT,
    SplitComparison,
    disagreements_png,
    per_class_table,
)
from mnist_mlops.registry.promotion import decide
from mnist_mlops.registry.scoring import Answers
from tests.helpers.models import register_trained, tiny_model, write_processed

NAME = "mnist-classifier"


@pytest.mark.parametrize(
    ("test", "feedback", "min_improvement", "promoted"),
    [
        ((0.900, 0.900), (0.80, 0.60), 0.0, True),  # feedback up, test kept
        ((0.896, 0.900), (0.80, 0.60), 0.0, True),  # test down 0.4 points: within 0.5
        ((0.894, 0.900), (0.80, 0.60), 0.0, False),  # test down 0.6 points
        ((0.950, 0.900), (0.55, 0.60), 0.0, False),  # feedback down, however good the test
        ((0.900, 0.900), (0.60, 0.60), 0.0, True),  # a tie promotes, as without feedback
        ((0.900, 0.900), (0.60, 0.60), 0.01, False),  # ...unless an improvement is required
        ((0.899, 0.900), (0.62, 0.60), 0.01, True),  # feedback gains 2 points
        ((0.920, 0.900), (0.60, 0.60), 0.01, True),  # test gains 2 points
    ],
)
def test_the_rule_with_a_feedback_split(test, feedback, min_improvement, promoted):
    decision = decide(
        test[0],
        test[1],
        min_improvement,
        "1",
        data_source="mnist",
        champion_source="mnist",
        feedback=feedback,
        max_test_drop=0.005,
    )
    assert decision.promoted is promoted
    assert (decision.feedback_challenger_accuracy, decision.feedback_champion_accuracy) == feedback
    assert "max_test_drop 0.005" in decision.reason


def test_without_a_feedback_split_the_test_split_decides_alone():
    worse = decide(0.894, 0.9, 0.0, "1", data_source="m", champion_source="m", max_test_drop=0.01)
    assert not worse.promoted and worse.feedback_champion_accuracy is None
    assert "misses min_improvement" in worse.reason


@pytest.fixture
def feedback_project(project, tiny_splits):
    """The project, its processed data holding a feedback test split (synthetic digits)."""
    feedback_test = tiny_splits["val"]
    write_processed({**tiny_splits, FEEDBACK_TEST: feedback_test}, project.processed_dir)
    meta = ProcessedMeta.load(project.processed_dir)
    used = FeedbackUsed(sha256="ab" * 32, train=7, test=len(feedback_test.y))
    meta.model_copy(update={"feedback": used}).save(project.processed_dir)
    return project


def run_register(paths, model, test):
    config = RegisterConfig(model_name=NAME, min_accuracy=0.0, max_test_drop=0.005)
    return register_trained(paths, config, model, test)


def test_champion_and_challenger_are_compared_on_both_splits_in_the_card(
    feedback_project, tiny_splits
):
    project = feedback_project
    test, feedback_test = tiny_splits["test"], tiny_splits["val"]
    _, first = run_register(project, tiny_model(None, seed=1), test)
    assert first.promoted and first.feedback_champion_accuracy is None
    assert first.feedback_test_digits == len(feedback_test.y)
    client = MlflowClient()
    card = client.get_model_version(NAME, "1").description
    assert f"{len(feedback_test.y)} feedback test digits" in card and "Per class" not in card

    run_id, second = run_register(project, tiny_model(tiny_splits["train"]), test)
    champion = mlflow.pyfunc.load_model(f"models:/{NAME}/1")
    expected = (champion.predict(feedback_test.x)["digit"] == feedback_test.y).mean()
    assert second.feedback_champion_accuracy == pytest.approx(expected)
    assert second.feedback_challenger_accuracy > second.feedback_champion_accuracy
    gains = (
        second.challenger_accuracy - second.champion_accuracy,
        second.feedback_challenger_accuracy - second.feedback_champion_accuracy,
    )
    assert second.promoted is (gains[0] >= -0.005 and gains[1] >= 0)
    tags = client.get_model_version(NAME, "2").tags
    assert float(tags["register.feedback_champion_accuracy"]) == pytest.approx(expected)
    assert tags["data.feedback_sha256"] == "ab" * 32
    card = client.get_model_version(NAME, "2").description
    assert "| test | 0 |" in card and "| feedback_test | 0 |" in card
    assert "champion v1" in card and DISAGREEMENTS_ARTIFACT in card
    figure = client.download_artifacts(run_id, DISAGREEMENTS_ARTIFACT, str(project.root))
    assert Path(figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_per_class_accuracy_and_the_disagreements_most_confident_first():
    labels = np.array([0, 0, 1, 1, 2])
    split = Split(np.zeros((5, 784), np.float32), labels)
    champion = Answers(np.array([0, 1, 1, 1, 0]), np.array([0.9, 0.6, 0.8, 0.7, 0.55]))
    challenger = Answers(np.array([0, 0, 1, 2, 2]), np.array([0.9, 0.7, 0.8, 0.95, 0.5]))
    comparison = SplitComparison("feedback_test", split, challenger, champion)
    assert comparison.per_class() == [(0, 2, 0.5, 1.0), (1, 2, 1.0, 0.5), (2, 1, 0.0, 1.0)]
    assert comparison.disagreements().tolist() == [3, 1, 4]  # by the higher confidence
    table = per_class_table([comparison])
    assert "| feedback_test | 1 | 2 | 1.000 | 0.500 | -50.0 pts |" in table
    png = disagreements_png([comparison], ("1", "2"))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
