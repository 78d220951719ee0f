"""The register stage's inputs: the trained model, its training run, test scores and data."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mnist_mlops.artifacts.metrics import EvaluateMetrics
from mnist_mlops.artifacts.processed import (
    ProcessedMeta,
    Split,
    load_feedback_test,
    load_splits,
    processed_hash,
)
from mnist_mlops.artifacts.runs import TrainedRunInfo
from mnist_mlops.artifacts.trained import load_model
from mnist_mlops.registry.promotion import known_source

if TYPE_CHECKING:
    import keras


@dataclass(frozen=True)
class Candidate:
    """The model to register (``run_id``: its training run) and what it is scored with.

    ``test`` (and ``feedback_test``, ``None`` when no feedback was used) score both it and the
    champion; ``data_source`` is ``None`` when unknown; ``feedback_sha256``: the snapshot used.
    """

    run_id: str
    model: keras.Model
    metrics: EvaluateMetrics
    test: Split
    data_source: str | None
    processed_sha256: str | None
    feedback_test: Split | None = None
    feedback_sha256: str | None = None


def load_candidate(
    trained_dir: Path, train_run: Path, evaluate_path: Path, processed_dir: Path
) -> Candidate:
    """Read the train stage's model and run record, the evaluate metrics and the test split.

    Raises:
        MissingArtifactError: An earlier stage has not run.
        DataError: One of its files is invalid.
    """
    run = TrainedRunInfo.read(train_run)
    metrics = EvaluateMetrics.read(evaluate_path)
    test = load_splits(processed_dir, ("test",))["test"]
    meta = ProcessedMeta.load(processed_dir)
    return Candidate(
        run_id=run.run_id,
        model=load_model(trained_dir, compile=False),
        metrics=metrics,
        test=test,
        data_source=known_source(meta.source),
        processed_sha256=processed_hash(processed_dir),
        feedback_test=load_feedback_test(processed_dir),
        feedback_sha256=meta.feedback.sha256 if meta.feedback else None,
    )
