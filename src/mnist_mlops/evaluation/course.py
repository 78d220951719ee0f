"""The course's own network (:func:`course_configs`) fitted as the reference run :data:`COURSE_RUN`.

Scored like the baselines (why: docs/decisions/course-reference-run.md).
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
    """Fit the course network in the run :data:`COURSE_RUN` (extra ``tags``); score on ``test``.

    Returns baseline-shaped scores (last epoch's train/val accuracy), the run and the digit
    predicted for each test image.
    """
    model_config, train_config = course_configs(seed)
    logged = flatten_params(model_config, "model") | flatten_params(train_config, "train")
    run_tags = {"stage": "baselines", "baseline.name": "course", **(tags or {})}
    trained = train_tracked(
        model_config, train_config, splits, logged, run_tags, COURSE_RUN, False, verbose
    )
    evaluation = evaluate_model(trained.model, splits["test"])
    scores = evaluation.metrics
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
    return BaselineRun(
        scores=course,
        run_id=trained.run_id,
        experiment_id=trained.experiment_id,
        predicted=tuple(evaluation.predicted.tolist()),
    )
