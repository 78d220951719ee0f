"""The course's scikit-learn baselines, ``Perceptron`` and ``MLPClassifier(100)``, as MLflow runs.

Scores use the Keras runs' metric names (:func:`.metrics.classification_metrics`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mnist_mlops.artifacts.metrics import BaselineScores, BaselinesMetrics
from mnist_mlops.artifacts.processed import Split
from mnist_mlops.artifacts.runs import BaselinesRunInfo
from mnist_mlops.evaluation.metrics import classification_metrics, flat_metrics
from mnist_mlops.tracking.log import log_metrics, log_params
from mnist_mlops.tracking.owner import owned_run
from mnist_mlops.tracking.setup import recorded_location

logger = logging.getLogger(__name__)

BASELINES = ("perceptron", "mlp")


@dataclass(frozen=True)
class BaselineRun:
    """One fitted baseline: its scores and the MLflow run that records them."""

    scores: BaselineScores
    run_id: str
    experiment_id: str = ""


def make_baseline(name: str, seed: int, max_iter: int | None = None) -> Any:
    """Return the unfitted estimator ``name`` (``random_state=seed``, ``max_iter`` if given).

    Raises:
        ValueError: An unknown name (the allowed ones are listed).
    """
    from sklearn.linear_model import Perceptron
    from sklearn.neural_network import MLPClassifier

    options = {} if max_iter is None else {"max_iter": max_iter}
    if name == "perceptron":
        return Perceptron(random_state=seed, **options)
    if name == "mlp":
        return MLPClassifier(hidden_layer_sizes=(100,), random_state=seed, **options)
    raise ValueError(f"unknown baseline {name!r}; allowed: {', '.join(BASELINES)}")


def run_baseline(
    name: str,
    splits: Mapping[str, Split],
    seed: int,
    tags: Mapping[str, str] | None = None,
    max_iter: int | None = None,
) -> BaselineRun:
    """Fit baseline ``name`` on ``splits["train"]`` and record it as a run of the active experiment.

    Returns:
        The scores (``train_accuracy``, ``val_accuracy``, ``fit_time_s`` and the test
        metrics of :func:`classification_metrics`) and the run.
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    estimator = make_baseline(name, seed, max_iter)
    train, val, test = splits["train"], splits["val"], splits["test"]
    run_tags = {"stage": "baselines", "model.family": "sklearn", **(tags or {})}
    with owned_run(f"baseline-{name}", run_tags) as run:
        run_id = run.info.run_id
        params = {f"baseline.{key}": value for key, value in estimator.get_params().items()}
        log_params(run_id, {"baseline.name": name, **params})
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            estimator.fit(train.x, train.y)
        fit_seconds = time.perf_counter() - started
        probabilities = (
            estimator.predict_proba(test.x) if hasattr(estimator, "predict_proba") else None
        )
        metrics = classification_metrics(test.y, estimator.predict(test.x), probabilities)
        metrics["train_accuracy"] = float(estimator.score(train.x, train.y))
        metrics["val_accuracy"] = float(estimator.score(val.x, val.y))
        metrics["fit_time_s"] = fit_seconds
        scores = BaselineScores.model_validate(metrics)
        log_metrics(run_id, flat_metrics(scores))
    logger.info("baseline %s: test accuracy %.4f", name, scores.test_accuracy)
    return BaselineRun(scores=scores, run_id=run_id, experiment_id=run.info.experiment_id)


def run_baselines(
    splits: Mapping[str, Split],
    seed: int,
    tags: Mapping[str, str] | None = None,
    max_iter: int | None = None,
) -> dict[str, BaselineRun]:
    """Run every baseline of :data:`BASELINES`; return ``{name: run}``."""
    return {name: run_baseline(name, splits, seed, tags, max_iter) for name in BASELINES}


def baselines_metrics(runs: Mapping[str, BaselineRun]) -> BaselinesMetrics:
    """Return the baselines stage's metrics file (the scores, without the run ids)."""
    return BaselinesMetrics.model_validate({name: run.scores for name, run in runs.items()})


def baselines_run_info(runs: Mapping[str, BaselineRun], experiment: str) -> BaselinesRunInfo:
    """Return the baselines stage's run record of ``runs`` in ``experiment`` (current store)."""
    experiment_id = next(iter(runs.values())).experiment_id if runs else ""
    return BaselinesRunInfo(
        run_ids={name: run.run_id for name, run in runs.items()},
        **recorded_location(experiment, experiment_id),
    )
