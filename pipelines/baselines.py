"""Stage ``baselines``: scikit-learn Perceptron, MLPClassifier and the course network as runs."""

from __future__ import annotations

from mnist_mlops.artifacts.metrics import BaselineMetrics, CoursePredictions
from mnist_mlops.artifacts.processed import load_splits
from mnist_mlops.config.params import BaselinesConfig, MlflowConfig, Params
from mnist_mlops.config.paths import ProjectPaths
from mnist_mlops.evaluation.baselines import (
    BaselineRun,
    baselines_metrics,
    baselines_run_info,
    run_baselines,
)
from mnist_mlops.evaluation.course import run_course
from mnist_mlops.tracking.provenance import run_tags
from mnist_mlops.tracking.setup import setup_tracking
from pipelines._stage import stage_flow, stage_task


@stage_task(name="write-outputs")
def write_outputs(runs: dict[str, BaselineRun], experiment: str, paths: ProjectPaths) -> None:
    """Write the baselines' metrics, full scores, course run's test digits and run record."""
    for name, run in runs.items():
        BaselineMetrics.from_scores(run.scores).write(paths.baseline_metrics(name))
    baselines_metrics(runs).write(paths.baselines_record)
    CoursePredictions(predicted=list(runs["course"].predicted)).write(paths.course_predictions)
    baselines_run_info(runs, experiment).write(paths.baselines_runs)


@stage_flow("baselines")
def baselines_flow(
    baselines: BaselinesConfig, mlflow: MlflowConfig, seed: int, paths: ProjectPaths
) -> dict[str, BaselineRun]:
    """Fit the baselines on the processed splits; write metrics and run record; return the runs."""
    splits = stage_task(load_splits)(paths.processed_dir)
    stage_task(setup_tracking)(mlflow, paths.root)
    tags = stage_task(run_tags)(paths.root, paths.raw_dir, paths.processed_dir)
    runs = stage_task(run_baselines)(splits, seed, baselines, tags)
    runs["course"] = stage_task(run_course)(splits, seed, tags, verbose=2)
    write_outputs(runs, mlflow.experiment, paths)
    return runs


def run(params: Params, paths: ProjectPaths) -> object:
    """Run the stage's flow with its sections of ``params`` (``python -m pipelines baselines``)."""
    return baselines_flow(params.baselines, params.mlflow, params.train.seed, paths)
