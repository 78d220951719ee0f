import numpy as np
import pytest

from mnist_mlops.config import ModelConfig, OptimizerConfig, TrainConfig
from mnist_mlops.evaluation import (
    Evaluation,
    classification_metrics,
    confusion_csv,
    evaluate_model,
    flat_metrics,
    history_csv,
    worst_mistakes,
)
from mnist_mlops.evaluation_outputs import render_plots, write_outputs
from mnist_mlops.training import fit


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
    evaluation = Evaluation({}, np.array([0, 0, 0, 1]), probabilities.argmax(1), probabilities)
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
    assert evaluation.metrics["test_accuracy"] == pytest.approx(np.mean(predicted == test.y))
    assert 0 < evaluation.metrics["test_loss"] < 10
    assert sum(v["support"] for v in evaluation.metrics["per_class"].values()) == len(test.y)
    files = render_plots(evaluation, result.history, test.x)
    write_outputs(evaluation, files, tmp_path / "metrics" / "evaluate.json", tmp_path / "plots")
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == [
        "confusion.csv",
        "confusion.png",
        "history.csv",
        "misclassified.png",
    ]
    assert (tmp_path / "plots" / "misclassified.png").read_bytes()[:4] == b"\x89PNG"
    rows = (tmp_path / "plots" / "confusion.csv").read_text().splitlines()
    assert len(rows) == len(test.y) + 1
    assert '"macro_f1"' in (tmp_path / "metrics" / "evaluate.json").read_text()
