"""The course's scikit-learn baselines, ``Perceptron`` and ``MLPClassifier(100)``, as MLflow runs.

Scores use the Keras runs' metric names (:func:`.metrics.classification_metrics`). Fits and
scores run under ``threadpoolctl`` with ``baselines.threads`` BLAS/OpenMP threads.
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
from mnist_mlops.config.params import BaselinesConfig
from mnist_mlops.evaluation.metrics import classification_metrics, flat_metrics
from mnist_mlops.tracking.log import log_metrics, log_params
from mnist_mlops.tracking.owner import owned_run
from mnist_mlops.tracking.setup import recorded_location

logger = logging.getLogger(__name__)

BASELINES = ("perceptron", "mlp")


@dataclass(frozen=True)
class BaselineRun:
    """One fitted baseline: its scores, the MLflow run that records them, its test digits."""

    scores: BaselineScores
    run_id: str
    experiment_id: str = ""
    predicted: tuple[int, ...] = ()  # the digit predicted for each test image (course run)


def make_baseline(
    name: str, seed: int, max_iter: int | None = None, early_stopping: bool = False
) -> Any:
    """Return the unfitted estimator ``name`` (``random_state=seed``, ``max_iter`` if given).

    ``early_stopping``: both stop when the score on 10 % of the training split held out stops
    improving (scikit-learn's ``early_stopping=True``).

    Raises:
        ValueError: An unknown name (the allowed ones are listed).
    """
    from sklearn.linear_model import Perceptron
    from sklearn.neural_network import MLPClassifier

    options: dict[str, Any] = {"early_stopping": early_stopping}
    if max_iter is not None:
        options["max_iter"] = max_iter
    if name == "perceptron":
        return Perceptron(random_state=seed, **options)
    if name == "mlp":
        return MLPClassifier(hidden_layer_sizes=(100,), random_state=seed, **options)
    raise ValueError(f"unknown baseline {name!r}; allowed: {', '.join(BASELINES)}")


def limited_fit(estimator: Any, train: Split, threads: int) -> float:
    """Fit ``estimator`` on ``train`` with at most ``threads`` BLAS/OpenMP threads.

    Convergence warnings (a ``max_iter`` cap reached) are silenced.

    Returns:
        The fit's wall time in seconds.
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    started = time.perf_counter()
    with threadpool_limits(limits=threads), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(train.x, train.y)
    return time.perf_counter() - started


def run_baseline(
    name: str,
    splits: Mapping[str, Split],
    seed: int,
    config: BaselinesConfig,
    tags: Mapping[str, str] | None = None,
) -> BaselineRun:
    """Fit baseline ``name`` on ``splits["train"]`` and record it as a run of the active experiment.

    ``config``: ``max_iter`` and ``early_stopping`` of the estimator; the fit and the scoring
    use at most ``config.threads`` BLAS/OpenMP threads (:func:`limited_fit`).

    Returns:
        The scores (``train_accuracy``, ``val_accuracy``, ``fit_time_s`` and the test
        metrics of :func:`classification_metrics`) and the run.
    """
    from threadpoolctl import threadpool_limits

    estimator = make_baseline(name, seed, config.max_iter, config.early_stopping)
    threads = config.threads
    params = {f"baseline.{key}": value for key, value in estimator.get_params().items()}
    params |= {"baseline.name": name, "baseline.threads": threads}
    train, val, test = splits["train"], splits["val"], splits["test"]
    run_tags = {"stage": "baselines", "model.family": "sklearn", **(tags or {})}
    with owned_run(f"baseline-{name}", run_tags) as run:
        run_id = run.info.run_id
        log_params(run_id, params)
        fit_seconds = limited_fit(estimator, train, threads)
        with threadpool_limits(limits=threads):
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
    config: BaselinesConfig,
    tags: Mapping[str, str] | None = None,
) -> dict[str, BaselineRun]:
    """Run every baseline of :data:`BASELINES` (as :func:`run_baseline`): name -> run."""
    return {name: run_baseline(name, splits, seed, config, tags) for name in BASELINES}


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
