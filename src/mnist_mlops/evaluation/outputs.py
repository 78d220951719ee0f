"""The evaluate stage's outputs: the test metrics file and the plot files, also logged to MLflow.

Everything is rendered in memory first (:func:`render_plots`) and only then written, each file
atomically, so a failure while computing leaves no half-written output. The metrics and plots
go into the training run named by ``runs/train.json``; :func:`write_run_record` records that
run in ``runs/evaluate.json``. The stage's paths come from
:class:`~mnist_mlops.config.paths.ProjectPaths` (``evaluate_metrics``, ``plots_dir``,
``evaluate_run``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath

import numpy as np

from mnist_mlops.artifacts.metrics import EvaluateMetrics
from mnist_mlops.artifacts.runs import EvaluateRunInfo, TrainedRunInfo
from mnist_mlops.config.paths import RELATIVE
from mnist_mlops.evaluation import plots
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

logger = logging.getLogger(__name__)

PLOT_FILES = (
    "confusion.csv",
    "history.csv",
    "per_class.csv",
    "confusion.png",
    "misclassified.png",
)
# The run's artifact folder of the evaluation; the metrics file keeps its project file name.
ARTIFACT_DIR = "evaluation"
METRICS_ARTIFACT = f"{ARTIFACT_DIR}/{PurePosixPath(RELATIVE['evaluate_metrics']).name}"


def render_plots(
    evaluation: Evaluation, history: Mapping[str, Sequence[float]], test_x: np.ndarray
) -> dict[str, bytes]:
    """Return the plot files (name to bytes): confusion, history, per-class CSVs and two PNGs.

    Args:
        evaluation: The test-split evaluation.
        history: The training history (the train stage's, see
            :class:`~mnist_mlops.artifacts.trained.TrainedModel`).
        test_x: The test pixels, for the misclassified-digits grid.
    """
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
    """Write the metrics file and the plot files (each atomically).

    Args:
        evaluation: The test-split evaluation (the headline of its scores is written).
        files: The plot files of :func:`render_plots`.
        metrics_path: The metrics file (``ProjectPaths.evaluate_metrics``).
        plots_dir: The plots folder (``ProjectPaths.plots_dir``).
    """
    EvaluateMetrics.from_scores(evaluation.metrics).write(metrics_path)
    for name, data in files.items():
        atomic_write_bytes(Path(plots_dir) / name, data)
    logger.info("wrote %s and %d files in %s", metrics_path, len(files), plots_dir)


def log_outputs(run_id: str, evaluation: Evaluation, files: Mapping[str, bytes]) -> None:
    """Log the test metrics and the evaluation files into the (finished) training run.

    Metrics: ``test_accuracy``, ``test_loss``, ``macro_f1``, ``macro_precision``,
    ``macro_recall`` and ``test_{precision,recall,f1}_{digit}``; artifacts under
    ``evaluation/``: the metrics file (same bytes as the stage's) and the plot files.
    """
    log_metrics(run_id, flat_metrics(evaluation.metrics))
    headline = EvaluateMetrics.from_scores(evaluation.metrics)
    log_bytes(run_id, dumps_json(headline.to_json()).encode(), METRICS_ARTIFACT)
    for name, data in files.items():
        log_bytes(run_id, data, f"{ARTIFACT_DIR}/{name}")


def write_run_record(run: TrainedRunInfo, path: Path) -> EvaluateRunInfo:
    """Write the stage's run record: the training run the metrics went into (current store).

    Args:
        run: The train stage's run record.
        path: The record's file (``ProjectPaths.evaluate_run``).

    Returns:
        The record written.
    """
    record = EvaluateRunInfo(
        run_id=run.run_id, **recorded_location(run.experiment, run.experiment_id)
    )
    record.write(path)
    return record
