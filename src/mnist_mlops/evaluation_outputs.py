"""The evaluate stage's outputs: ``metrics/evaluate.json`` and ``plots/``, also logged to MLflow.

Everything is rendered in memory first (:func:`render_plots`) and only then written, each file
atomically, so a failure while computing leaves no half-written output.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from mnist_mlops import plots
from mnist_mlops.evaluation import (
    Evaluation,
    confusion_csv,
    flat_metrics,
    history_csv,
    worst_mistakes,
)
from mnist_mlops.io import atomic_write_bytes, dumps_json
from mnist_mlops.tracking import log_bytes, log_metrics

logger = logging.getLogger(__name__)

METRICS_PATH = Path("metrics/evaluate.json")
PLOTS_DIR = Path("plots")
PLOT_FILES = ("confusion.csv", "history.csv", "confusion.png", "misclassified.png")


def render_plots(
    evaluation: Evaluation, history: Mapping[str, Sequence[float]], test_x: np.ndarray
) -> dict[str, bytes]:
    """Return the plot files (name to bytes): confusion and history CSVs and two PNGs.

    Args:
        evaluation: The test-split evaluation.
        history: The training history (``history.json`` of the train stage).
        test_x: The test pixels, for the misclassified-digits grid.
    """
    mistakes = worst_mistakes(evaluation)
    confidence = evaluation.probabilities[mistakes, evaluation.predicted[mistakes]]
    return {
        "confusion.csv": confusion_csv(evaluation.actual, evaluation.predicted).encode(),
        "history.csv": history_csv(history).encode(),
        "confusion.png": plots.confusion_png(evaluation.confusion()),
        "misclassified.png": plots.misclassified_png(
            test_x[mistakes],
            evaluation.actual[mistakes],
            evaluation.predicted[mistakes],
            confidence,
        ),
    }


def write_outputs(
    evaluation: Evaluation,
    files: Mapping[str, bytes],
    metrics_path: Path = METRICS_PATH,
    plots_dir: Path = PLOTS_DIR,
) -> None:
    """Write the metrics JSON and the plot files (each atomically)."""
    atomic_write_bytes(metrics_path, dumps_json(evaluation.metrics).encode())
    for name, data in files.items():
        atomic_write_bytes(Path(plots_dir) / name, data)
    logger.info("wrote %s and %d files in %s", metrics_path, len(files), plots_dir)


def log_outputs(run_id: str, evaluation: Evaluation, files: Mapping[str, bytes]) -> None:
    """Log the test metrics and the evaluation files into the (finished) training run.

    Metrics: ``test_accuracy``, ``test_loss``, ``macro_f1``, ``macro_precision``,
    ``macro_recall`` and ``test_{precision,recall,f1}_{digit}``; artifacts under ``evaluation/``.
    """
    log_metrics(run_id, flat_metrics(evaluation.metrics))
    log_bytes(run_id, dumps_json(evaluation.metrics).encode(), "evaluation/evaluate.json")
    for name, data in files.items():
        log_bytes(run_id, data, f"evaluation/{name}")
