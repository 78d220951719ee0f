import json

import mlflow
import numpy as np
import pytest

from mnist_mlops.artifacts.metrics import EvaluateMetrics, EvaluationScores, FeedbackMetrics
from mnist_mlops.config.params import ModelConfig, OptimizerConfig, TrainConfig
from mnist_mlops.config.paths import ProjectPaths
from mnist_mlops.evaluation.metrics import (
    Evaluation,
    classification_metrics,
    confusion_csv,
    evaluate_model,
    flat_metrics,
    history_csv,
    worst_mistakes,
)
from mnist_mlops.evaluation.outputs import PLOT_FILES, feedback_outputs, render_plots, write_outputs
from mnist_mlops.io import dumps_json
from mnist_mlops.training.fit import fit
from tests.helpers.models import tiny_model, use_test_store


def test_classification_metrics_by_hand():
    actual = np.array([0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    predicted = np.array([0, 1, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    metrics = classification_metrics(actual, predicted)
    assert metrics["test_accuracy"] == pytest.approx(11 / 12)
    assert metrics["per_class"]["0"] == {"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "support": 2}
    assert metrics["per_class"]["1"]["precision"] == pytest.approx(2 / 3)
    assert metrics["macro_f1"] == pytest.approx((8 + 2 / 3 + 0.8) / 10)
    assert "test_loss" not in metrics
    probabilities = np.full((12, 10), 0.1)
    assert classification_metrics(actual, predicted, probabilities)["test_loss"] == pytest.approx(
        np.log(10)
    )


def test_flat_metrics_for_mlflow():
    flat = flat_metrics(classification_metrics(np.arange(10), np.arange(10)))
    assert flat["test_f1_3"] == 1.0 and flat["test_recall_9"] == 1.0
    assert "per_class" not in flat and flat["macro_f1"] == 1.0


def test_csv_outputs():
    assert confusion_csv(np.array([1, 2]), np.array([1, 3])) == "actual,predicted\n1,1\n2,3\n"
    text = history_csv({"loss": [0.5, 0.25], "val_loss": [0.6, 0.3], "accuracy": [0.8, 0.9]})
    assert text.splitlines() == ["epoch,loss,accuracy,val_loss", "1,0.5,0.8,0.6", "2,0.25,0.9,0.3"]


def test_worst_mistakes_come_most_confident_first():
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.3, 0.7]])
    actual, predicted = np.array([0, 0, 0, 1]), probabilities.argmax(1)
    scores = EvaluationScores.model_validate(
        classification_metrics(actual, predicted) | {"test_loss": 0.5}
    )
    evaluation = Evaluation(scores, actual, predicted, probabilities)
    assert worst_mistakes(evaluation).tolist() == [1, 2]
    assert evaluation.confusion()[0, 1] == 2 and evaluation.confusion().sum() == 4


def test_evaluate_a_trained_model_and_write_outputs(tiny_splits, tmp_path):
    result = fit(
        ModelConfig(hidden_layers=[16]),
        TrainConfig(epochs=2, batch_size=16, optimizer=OptimizerConfig()),
        tiny_splits["train"],
        tiny_splits["val"],
    )
    test = tiny_splits["test"]
    evaluation = evaluate_model(result.model, test)
    predicted = result.model.predict_on_batch(test.x).argmax(1)
    metrics = evaluation.metrics
    assert metrics.test_accuracy == pytest.approx(np.mean(predicted == test.y))
    assert 0 < metrics.test_loss < 10
    assert sum(v.support for v in metrics.per_class.values()) == len(test.y)
    files = render_plots(evaluation, result.history, test.x)
    paths = ProjectPaths(tmp_path)
    write_outputs(evaluation, files, paths.evaluate_metrics, paths.plots_dir)
    assert (
        sorted(p.name for p in paths.plots_dir.iterdir())
        == sorted(PLOT_FILES)
        == [
            "confusion.csv",
            "confusion.png",
            "history.csv",
            "misclassified.png",
            "per_class.csv",
        ]
    )
    assert (paths.plots_dir / "misclassified.png").read_bytes()[:4] == b"\x89PNG"
    rows = (paths.plots_dir / "confusion.csv").read_text().splitlines()
    assert len(rows) == len(test.y) + 1
    text = paths.evaluate_metrics.read_text()
    assert '"macro_f1"' in text
    assert EvaluateMetrics.read(paths.evaluate_metrics) == EvaluateMetrics.from_scores(metrics)
    assert set(json.loads(text)) == {"test_accuracy", "macro_f1", "test_loss"}  # headline only
    per_class = (paths.plots_dir / "per_class.csv").read_text().splitlines()
    assert per_class[0] == "digit,precision,recall,f1,support" and len(per_class) == 11
    assert sum(int(row.rsplit(",", 1)[1]) for row in per_class[1:]) == len(test.y)


def test_the_metrics_file_keeps_the_bytes_of_the_metrics_mapping():
    """The full scores keep exactly classification_metrics' keys and values."""
    actual = np.array([0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    predicted = np.array([0, 1, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    values = classification_metrics(actual, predicted, np.full((12, 10), 0.1))
    assert dumps_json(EvaluationScores.model_validate(values).to_json()) == dumps_json(values)


def test_the_feedback_test_split_is_scored_written_and_logged(tmp_path, tiny_splits):
    experiment_id = use_test_store()
    run_id = mlflow.MlflowClient().create_run(experiment_id).info.run_id
    model, split = tiny_model(tiny_splits["train"]), tiny_splits["val"]
    path = tmp_path / "metrics" / "feedback.json"
    metrics = feedback_outputs(model, split, run_id, path)
    expected = (model.predict(split.x, verbose=0).argmax(1) == split.y).mean()
    assert metrics.feedback_accuracy == pytest.approx(expected)
    assert FeedbackMetrics.read(path) == metrics and metrics.feedback_test_digits == len(split.y)
    logged = mlflow.MlflowClient().get_run(run_id).data.metrics["feedback_accuracy"]
    assert logged == pytest.approx(expected)
    assert feedback_outputs(model, None, run_id, path) == FeedbackMetrics()
    assert path.read_text().strip() == "{}"
