"""Stage ``feedback``: snapshot the labelled predictions of the store into ``data/feedback``."""

from __future__ import annotations

from mnist_mlops.config.params import FeedbackConfig, Params
from mnist_mlops.config.paths import ProjectPaths
from mnist_mlops.feedback.snapshot import FeedbackManifest, snapshot_store
from pipelines._stage import stage_flow, stage_task


@stage_flow("feedback")
def feedback_flow(config: FeedbackConfig, paths: ProjectPaths) -> FeedbackManifest:
    """Write the snapshot (empty when nothing is labelled); return its manifest."""
    return stage_task(snapshot_store)(config.resolved_store(paths.root), paths.feedback_dir)


def run(params: Params, paths: ProjectPaths) -> object:
    """Run the stage's flow with its sections of ``params`` (``python -m pipelines feedback``)."""
    return feedback_flow(params.feedback, paths)
