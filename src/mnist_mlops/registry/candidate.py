"""The register stage's inputs: the trained model, its training run, test scores and data.

:func:`load_candidate` reads the train, evaluate and preprocess outputs once; the steps of
:func:`mnist_mlops.registry.register.register` work on the :class:`Candidate` it returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mnist_mlops.artifacts.metrics import EvaluateMetrics
from mnist_mlops.artifacts.processed import ProcessedMeta, Split, load_splits, processed_hash
from mnist_mlops.artifacts.runs import TrainedRunInfo
from mnist_mlops.artifacts.trained import load_model
from mnist_mlops.registry.promotion import known_source

if TYPE_CHECKING:
    import keras


@dataclass(frozen=True)
class Candidate:
    """The model to register and what it is scored and described with.

    Attributes:
        run_id: Its MLflow training run.
        model: The trained Keras model.
        metrics: The evaluate stage's test scores.
        test: The current test split (scores both it and the champion).
        data_source: The source of the processed data (``None``: unknown).
        processed_sha256: The hash of the processed splits (``None``: no splits found).
    """

    run_id: str
    model: keras.Model
    metrics: EvaluateMetrics
    test: Split
    data_source: str | None
    processed_sha256: str | None


def load_candidate(
    trained_dir: Path, train_run: Path, evaluate_path: Path, processed_dir: Path
) -> Candidate:
    """Read the train stage's model and run, the evaluate metrics and the test split.

    Args:
        trained_dir: The train stage's model folder.
        train_run: The train stage's run record.
        evaluate_path: The evaluate stage's metrics file.
        processed_dir: The processed splits and their meta file.

    Returns:
        The candidate.

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
    )
