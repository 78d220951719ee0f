"""The course's own network as a reference run beside the scikit-learn baselines.

Whatever ``params.yaml`` trains (tuned or not), every ``baselines`` stage also fits the course's
network exactly - 784 -> ``Dense(512, relu)`` -> ``Dense(10, softmax)``, adam 0.001, 5 epochs,
batch 128 (:func:`course_configs`) - as the MLflow run :data:`COURSE_RUN`, scored like the
baselines, so the runs table and ``dvc metrics show`` put course, champion and scikit-learn side
by side.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from mnist_mlops.artifacts.metrics import BaselineScores
from mnist_mlops.artifacts.processed import Split
from mnist_mlops.config.params import ModelConfig, OptimizerConfig, TrainConfig
from mnist_mlops.evaluation.baselines import BaselineRun
from mnist_mlops.evaluation.metrics import evaluate_model, flat_metrics
from mnist_mlops.tracking.log import flatten_params, log_metrics
from mnist_mlops.training.tracked import train_tracked

logger = logging.getLogger(__name__)

COURSE_RUN = "baseline-course"


def course_configs(seed: int) -> tuple[ModelConfig, TrainConfig]:
    """Return the course network's ``model`` and ``train`` sections (fixed; ``seed`` aside)."""
    model = ModelConfig(kind="mlp", hidden_layers=[512], activation="relu", dropout=0.0)
    train = TrainConfig(
        epochs=5,
        batch_size=128,
        optimizer=OptimizerConfig(name="adam", learning_rate=0.001),
        seed=seed,
        use_tuned=False,
    )
    return model, train


def run_course(
    splits: Mapping[str, Split], seed: int, tags: Mapping[str, str] | None = None, verbose: int = 0
) -> BaselineRun:
    """Fit the course network in the MLflow run :data:`COURSE_RUN` and score it on the test split.

    Args:
        splits: ``train``, ``val`` and ``test`` splits.
        seed: ``train.seed``.
        tags: Extra run tags (provenance).
        verbose: Keras ``fit`` verbosity.

    Returns:
        The baseline-shaped scores (``train_accuracy``/``val_accuracy`` of the last epoch) and
        the run id; the run holds the per-epoch metrics and the test metrics.
    """
    model_config, train_config = course_configs(seed)
    logged = flatten_params(model_config, "model") | flatten_params(train_config, "train")
    run_tags = {"stage": "baselines", "baseline.name": "course", **(tags or {})}
    trained = train_tracked(
        model_config, train_config, splits, logged, run_tags, COURSE_RUN, False, verbose
    )
    scores = evaluate_model(trained.model, splits["test"]).metrics
    log_metrics(trained.run_id, flat_metrics(scores))
    course = BaselineScores.model_validate(
        scores.to_json()
        | {
            "train_accuracy": trained.history["accuracy"][-1],
            "val_accuracy": trained.history["val_accuracy"][-1],
            "fit_time_s": trained.fit_seconds,
        }
    )
    logger.info("baseline course: test accuracy %.4f", course.test_accuracy)
    return BaselineRun(scores=course, run_id=trained.run_id, experiment_id=trained.experiment_id)
