"""Test-split scores (loss, accuracy, macro, per class) named alike in every run; plot data."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mnist_mlops.artifacts.metrics import EvaluationScores, TestScores
from mnist_mlops.artifacts.processed import Split
from mnist_mlops.config.constants import NUM_CLASSES

if TYPE_CHECKING:
    import keras

logger = logging.getLogger(__name__)

MAX_MISCLASSIFIED = 36
HISTORY_COLUMNS = ("loss", "accuracy", "val_loss", "val_accuracy")


@dataclass
class Evaluation:
    """Test-split results: the metrics plus what the plots need."""

    metrics: EvaluationScores
    actual: np.ndarray
    predicted: np.ndarray
    probabilities: np.ndarray

    def confusion(self) -> np.ndarray:
        """Return the 10x10 confusion matrix (rows: actual, columns: predicted)."""
        matrix = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=np.int64)
        np.add.at(matrix, (self.actual, self.predicted), 1)
        return matrix


def classification_metrics(
    actual: np.ndarray, predicted: np.ndarray, probabilities: np.ndarray | None = None
) -> dict[str, Any]:
    """Score ``predicted`` against ``actual`` labels; ``(n, 10)`` ``probabilities`` add a log loss.

    Returns:
        ``test_accuracy``, ``macro_precision``, ``macro_recall``, ``macro_f1``, ``per_class``
        (``{"0": {"precision", "recall", "f1", "support"}, ...}``) and, with probabilities,
        ``test_loss``.
    """
    from sklearn.metrics import accuracy_score, log_loss, precision_recall_fscore_support

    labels = list(range(NUM_CLASSES))
    precision, recall, f1, support = precision_recall_fscore_support(
        actual, predicted, labels=labels, zero_division=0
    )
    metrics: dict[str, Any] = {
        "test_accuracy": float(accuracy_score(actual, predicted)),
        "macro_precision": float(np.mean(precision)),
        "macro_recall": float(np.mean(recall)),
        "macro_f1": float(np.mean(f1)),
        "per_class": {
            str(label): {
                "precision": float(precision[label]),
                "recall": float(recall[label]),
                "f1": float(f1[label]),
                "support": int(support[label]),
            }
            for label in labels
        },
    }
    if probabilities is not None:
        metrics["test_loss"] = float(log_loss(actual, probabilities, labels=labels))
    return metrics


def evaluate_model(model: keras.Model, test: Split, batch_size: int = 1024) -> Evaluation:
    """Evaluate ``model`` on ``test``; ``test_loss`` and ``test_accuracy`` are Keras's own.

    Returns:
        The full scores and the predictions.
    """
    probabilities = np.asarray(model.predict(test.x, batch_size=batch_size, verbose=0))
    predicted = probabilities.argmax(axis=1)
    values = classification_metrics(test.y, predicted)
    scores = model.evaluate(test.x, test.y, batch_size=batch_size, verbose=0, return_dict=True)
    values["test_loss"] = float(scores["loss"])
    values["test_accuracy"] = float(scores["accuracy"])
    metrics = EvaluationScores.model_validate(values)
    logger.info(
        "test accuracy %.4f, loss %.4f, macro F1 %.4f",
        metrics.test_accuracy,
        metrics.test_loss,
        metrics.macro_f1,
    )
    return Evaluation(metrics, test.y.astype(np.int64), predicted, probabilities)


def flat_metrics(metrics: Mapping[str, Any] | TestScores) -> dict[str, float]:
    """Flatten scores for MLflow: ``per_class["3"]["f1"]`` becomes ``test_f1_3``.

    ``metrics``: :func:`classification_metrics`' mapping or a metrics model (unset scores omitted).
    """
    if isinstance(metrics, TestScores):
        metrics = metrics.to_json()
    flat = {key: float(value) for key, value in metrics.items() if key != "per_class"}
    for label, scores in metrics.get("per_class", {}).items():
        for name in ("precision", "recall", "f1"):
            flat[f"test_{name}_{label}"] = float(scores[name])
    return flat


def confusion_csv(actual: np.ndarray, predicted: np.ndarray) -> str:
    """One ``actual,predicted`` row per test digit (DVC's ``confusion`` template input)."""
    rows = [f"{int(a)},{int(p)}" for a, p in zip(actual, predicted, strict=True)]
    return "actual,predicted\n" + "\n".join(rows) + "\n"


def per_class_csv(scores: TestScores) -> str:
    """One ``digit,precision,recall,f1,support`` row per class (``plots/per_class.csv``)."""
    lines = ["digit,precision,recall,f1,support"]
    for digit, row in sorted(scores.per_class.items(), key=lambda item: int(item[0])):
        lines.append(f"{digit},{row.precision},{row.recall},{row.f1},{row.support}")
    return "\n".join(lines) + "\n"


def history_csv(history: Mapping[str, Sequence[float]]) -> str:
    """Per-epoch history as CSV: ``epoch,loss,accuracy,val_loss,val_accuracy``."""
    columns = [name for name in HISTORY_COLUMNS if name in history]
    lines = ["epoch," + ",".join(columns)]
    for index in range(len(history.get("loss", []))):
        values = ",".join(repr(float(history[name][index])) for name in columns)
        lines.append(f"{index + 1},{values}")
    return "\n".join(lines) + "\n"


def worst_mistakes(evaluation: Evaluation, limit: int = MAX_MISCLASSIFIED) -> np.ndarray:
    """Indices of misclassified test digits, most confident mistakes first."""
    wrong = np.flatnonzero(evaluation.actual != evaluation.predicted)
    confidence = evaluation.probabilities[wrong, evaluation.predicted[wrong]]
    order = np.argsort(-confidence, kind="stable")
    return wrong[order][:limit]
