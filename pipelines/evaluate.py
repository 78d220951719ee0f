"""Stage ``evaluate``: score the trained model on the test split; log into the training run."""

from __future__ import annotations

from mnist_mlops.artifacts.metrics import CoursePredictions, EvaluateMetrics
from mnist_mlops.artifacts.processed import load_feedback_test, load_splits
from mnist_mlops.artifacts.runs import TrainedRunInfo
from mnist_mlops.artifacts.trained import load_trained
from mnist_mlops.config.params import MlflowConfig, Params
from mnist_mlops.config.paths import ProjectPaths
from mnist_mlops.evaluation.metrics import evaluate_model
from mnist_mlops.evaluation.outputs import (
    feedback_outputs,
    log_outputs,
    render_plots,
    write_comparison,
    write_outputs,
    write_run_record,
)
from mnist_mlops.tracking.setup import setup_tracking
from pipelines._stage import stage_flow, stage_task


@stage_flow("evaluate")
def evaluate_flow(mlflow: MlflowConfig, paths: ProjectPaths) -> EvaluateMetrics:
    """Evaluate the trained model on the test and feedback test splits; log; write the outputs.

    The comparison is with the course run's test digits (written by the baselines stage).
    """
    trained = stage_task(load_trained)(paths.trained_dir)
    run = stage_task(TrainedRunInfo.read, name="read-run")(paths.train_run)
    course = stage_task(CoursePredictions.read, name="read-course")(paths.course_predictions)
    test = stage_task(load_splits)(paths.processed_dir, ("test",))["test"]
    evaluation = stage_task(evaluate_model)(trained.model, test)
    files = stage_task(render_plots)(evaluation, trained.history, test.x)
    stage_task(setup_tracking)(mlflow, paths.root)
    stage_task(log_outputs)(run.run_id, evaluation, files)
    stage_task(write_outputs)(evaluation, files, paths.evaluate_metrics, paths.plots_dir)
    feedback_test = stage_task(load_feedback_test)(paths.processed_dir)
    stage_task(feedback_outputs)(trained.model, feedback_test, run.run_id, paths.feedback_metrics)
    stage_task(write_run_record)(run, paths.evaluate_run)
    stage_task(write_comparison)(evaluation, course, paths.comparison_record)
    return EvaluateMetrics.from_scores(evaluation.metrics)


def run(params: Params, paths: ProjectPaths) -> object:
    """Run the stage's flow with its sections of ``params`` (``python -m pipelines evaluate``)."""
    return evaluate_flow(params.mlflow, paths)
