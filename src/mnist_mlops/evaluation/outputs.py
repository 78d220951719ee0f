"""The evaluate stage's outputs: test metrics, plots (also logged to MLflow), course comparison."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import numpy as np

from mnist_mlops.artifacts.metrics import CoursePredictions, EvaluateMetrics, FeedbackMetrics
from mnist_mlops.artifacts.processed import Split
from mnist_mlops.artifacts.runs import EvaluateRunInfo, TrainedRunInfo
from mnist_mlops.config.paths import RELATIVE
from mnist_mlops.evaluation import plots
from mnist_mlops.evaluation.comparison import compare_with_course
from mnist_mlops.evaluation.metrics import (
    Evaluation,
    confusion_csv,
    flat_metrics,
    history_csv,
    per_class_csv,
    worst_mistakes,
)
from mnist_mlops.io import atomic_write_bytes, dumps_json
from mnist_mlops.tracking.log import log_bytes, log_metrics
from mnist_mlops.tracking.setup import recorded_location

if TYPE_CHECKING:
    import keras

logger = logging.getLogger(__name__)

PLOT_FILES = ("confusion.csv", "history.csv", "per_class.csv", "confusion.png", "misclassified.png")
# The run's artifact folder of the evaluation; the metrics file keeps its project file name.
ARTIFACT_DIR = "evaluation"
METRICS_ARTIFACT = f"{ARTIFACT_DIR}/{PurePosixPath(RELATIVE['evaluate_metrics']).name}"


def render_plots(
    evaluation: Evaluation, history: Mapping[str, Sequence[float]], test_x: np.ndarray
) -> dict[str, bytes]:
    """Return :data:`PLOT_FILES` (name to bytes); ``test_x`` gives the mistakes' pixels."""
    mistakes = worst_mistakes(evaluation)
    confidence = evaluation.probabilities[mistakes, evaluation.predicted[mistakes]]
    return {
        "confusion.csv": confusion_csv(evaluation.actual, evaluation.predicted).encode(),
        "history.csv": history_csv(history).encode(),
        "per_class.csv": per_class_csv(evaluation.metrics).encode(),
        "confusion.png": plots.confusion_png(evaluation.confusion()),
        "misclassified.png": plots.misclassified_png(
            test_x[mistakes],
            evaluation.actual[mistakes],
            evaluation.predicted[mistakes],
            confidence,
        ),
    }


def write_outputs(
    evaluation: Evaluation, files: Mapping[str, bytes], metrics_path: Path, plots_dir: Path
) -> None:
    """Write the headline metrics to ``metrics_path`` and ``files`` to ``plots_dir``, atomically."""
    EvaluateMetrics.from_scores(evaluation.metrics).write(metrics_path)
    for name, data in files.items():
        atomic_write_bytes(Path(plots_dir) / name, data)
    logger.info("wrote %s and %d files in %s", metrics_path, len(files), plots_dir)


def log_outputs(run_id: str, evaluation: Evaluation, files: Mapping[str, bytes]) -> None:
    """Log the flat metrics, and the metrics file and ``files`` under ``evaluation/``, to a run."""
    log_metrics(run_id, flat_metrics(evaluation.metrics))
    headline = EvaluateMetrics.from_scores(evaluation.metrics)
    log_bytes(run_id, dumps_json(headline.to_json()).encode(), METRICS_ARTIFACT)
    for name, data in files.items():
        log_bytes(run_id, data, f"{ARTIFACT_DIR}/{name}")


def write_run_record(run: TrainedRunInfo, path: Path) -> EvaluateRunInfo:
    """Write and return the stage's run record at ``path``: ``run``'s run in the current store."""
    record = EvaluateRunInfo(
        run_id=run.run_id, **recorded_location(run.experiment, run.experiment_id)
    )
    record.write(path)
    return record


def feedback_outputs(
    model: keras.Model, feedback_test: Split | None, run_id: str, path: Path
) -> FeedbackMetrics:
    """Score ``model`` on the ``feedback_test`` split; write ``path``; log it to run ``run_id``.

    No split (no feedback used): ``{}`` is written, nothing logged.
    """
    metrics = FeedbackMetrics()
    if feedback_test is not None and len(feedback_test.y):
        predicted = np.asarray(model.predict(feedback_test.x, verbose=0)).argmax(axis=1)
        metrics = FeedbackMetrics(
            feedback_test_digits=len(feedback_test.y),
            feedback_accuracy=float((predicted == feedback_test.y).mean()),
        )
        log_metrics(run_id, {"feedback_accuracy": float(metrics.feedback_accuracy or 0.0)})
        log_bytes(run_id, dumps_json(metrics.to_json()).encode(), f"{ARTIFACT_DIR}/{path.name}")
    metrics.write(path)
    logger.info("feedback test: %s", metrics.to_json())
    return metrics


def write_comparison(evaluation: Evaluation, course: CoursePredictions, path: Path) -> None:
    """Write to ``path`` the comparison of ``evaluation``'s digits with the course run's.

    Same test images, paired (:func:`.comparison.compare_with_course`); written atomically.

    Raises:
        DataError: The course predictions are of another test split.
    """
    compare_with_course(
        evaluation.actual, evaluation.predicted, np.asarray(course.predicted)
    ).write(path)
