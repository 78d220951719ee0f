"""Stage ``preprocess``: split and scale the raw digits and the labelled feedback; report."""

from __future__ import annotations

from typing import Any

from mnist_mlops.config.params import FeedbackConfig, Params, PreprocessConfig
from mnist_mlops.config.paths import ProjectPaths
from mnist_mlops.data.feedback import feedback_splits
from mnist_mlops.data.preprocess import preprocess
from mnist_mlops.data.report import write_report
from pipelines._stage import stage_flow, stage_task


@stage_flow("preprocess")
def preprocess_flow(
    config: PreprocessConfig, feedback: FeedbackConfig, paths: ProjectPaths
) -> dict[str, Any]:
    """Write the splits (with the labelled feedback) and the dataset report; return the report."""
    used = stage_task(feedback_splits)(feedback, paths.feedback_dir)
    splits = stage_task(preprocess)(config, paths.raw_dir, paths.processed_dir, used)
    return stage_task(write_report)(splits, paths.reports_dir)


def run(params: Params, paths: ProjectPaths) -> object:
    """Run the stage's flow with its sections of ``params`` (``python -m pipelines preprocess``)."""
    return preprocess_flow(params.preprocess, params.feedback, paths)
