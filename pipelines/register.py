"""Stage ``register``: register the trained model; promote it if better on the same data source."""

from __future__ import annotations

from mnist_mlops.artifacts.metrics import RegisterSummary
from mnist_mlops.config.params import MlflowConfig, Params, RegisterConfig
from mnist_mlops.config.paths import ProjectPaths
from mnist_mlops.registry.register import register, write_run_record
from mnist_mlops.tracking.setup import setup_tracking
from pipelines._stage import stage_flow, stage_task


@stage_flow("register")
def register_flow(
    config: RegisterConfig, mlflow_config: MlflowConfig, paths: ProjectPaths
) -> RegisterSummary:
    """Register a new version (alias challenger), decide on champion, write summary and record."""
    stage_task(setup_tracking)(mlflow_config, paths.root)
    summary = stage_task(register)(
        config,
        paths.trained_dir,
        paths.train_run,
        paths.evaluate_metrics,
        paths.processed_dir,
        paths.root,
    )
    stage_task(summary.write, name="write-summary")(paths.register_metrics)
    stage_task(write_run_record)(summary, paths.train_run, paths.register_run)
    return summary


def run(params: Params, paths: ProjectPaths) -> object:
    """Run the stage's flow with its sections of ``params`` (``python -m pipelines register``)."""
    return register_flow(params.register, params.mlflow, paths)
