"""Stage ``train``: fit the model from params (or tune's best params) in one MLflow run."""

from __future__ import annotations

from mnist_mlops.artifacts.processed import ProcessedMeta, load_splits
from mnist_mlops.artifacts.trained import save_trained
from mnist_mlops.config.params import MlflowConfig, ModelConfig, Params, TrainConfig
from mnist_mlops.config.paths import ProjectPaths
from mnist_mlops.tracking.datasets import log_feedback_input
from mnist_mlops.tracking.log import flatten_params
from mnist_mlops.tracking.provenance import run_name, run_tags
from mnist_mlops.tracking.setup import setup_tracking
from mnist_mlops.training.tracked import train_details, train_tracked
from mnist_mlops.training.tuned_params import resolve_training_params
from pipelines._stage import stage_flow, stage_task


@stage_flow("train")
def train_flow(
    model: ModelConfig, train: TrainConfig, mlflow: MlflowConfig, paths: ProjectPaths
) -> str:
    """Train in one MLflow run; write the model folder and the run record; return the run id."""
    model, train, tuned_tags = stage_task(resolve_training_params, name="resolve-params")(
        model, train, paths.best_params
    )
    splits = stage_task(load_splits)(paths.processed_dir, ("train", "val"))
    stage_task(setup_tracking)(mlflow, paths.root)
    logged = flatten_params(model, "model") | flatten_params(train, "train")
    tags = stage_task(run_tags)(paths.root, paths.raw_dir, paths.processed_dir) | tuned_tags
    name = run_name("train", train_details(model, train), tags)
    trained = stage_task(train_tracked)(
        model, train, splits, logged, tags, run_name=name, verbose=2
    )
    meta = stage_task(ProcessedMeta.load, name="read-meta")(paths.processed_dir)
    stage_task(log_feedback_input)(trained.run_id, meta.feedback)
    stage_task(save_trained)(trained.model, trained.history, paths.trained_dir)
    stage_task(trained.run_info(mlflow.experiment).write, name="write-run")(paths.train_run)
    return trained.run_id


def run(params: Params, paths: ProjectPaths) -> object:
    """Run the stage's flow with its sections of ``params`` (``python -m pipelines train``)."""
    return train_flow(params.model, params.train, params.mlflow, paths)
