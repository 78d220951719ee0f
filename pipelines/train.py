"""Stage ``train``: fit the model from params (or tune's best params) in one MLflow run."""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from mnist_mlops.config import MlflowConfig, ModelConfig, TrainConfig
from mnist_mlops.data.preprocess import load_splits
from mnist_mlops.tracking import flatten_params, run_tags, setup_tracking
from mnist_mlops.trained import TRAINED_DIR, save_trained
from mnist_mlops.training import train_tracked
from mnist_mlops.tuned import BEST_PARAMS_PATH, resolve_training_params
from pipelines._stage import main, stage_task

PROCESSED_DIR = Path("data/processed")


@flow(name="train", persist_result=False)
def train_flow(
    model: ModelConfig,
    train: TrainConfig,
    mlflow: MlflowConfig,
    processed_dir: Path = PROCESSED_DIR,
    out_dir: Path = TRAINED_DIR,
    best_params_path: Path = BEST_PARAMS_PATH,
) -> str:
    """Train, log the run to MLflow, write ``models/trained/``; return the MLflow run id."""
    model, train, tuned_tags = stage_task(resolve_training_params, name="resolve-params")(
        model, train, best_params_path
    )
    splits = stage_task(load_splits)(processed_dir, ("train", "val"))
    stage_task(setup_tracking)(mlflow)
    logged = flatten_params(model, "model") | flatten_params(train, "train")
    tags = stage_task(run_tags)() | tuned_tags
    trained = stage_task(train_tracked)(
        model, train, splits, logged, tags, run_name="train", verbose=2
    )
    run_info = trained.run_info(mlflow.experiment)
    stage_task(save_trained)(trained.model, trained.history, run_info, out_dir)
    return trained.run_id


if __name__ == "__main__":
    main("train", lambda params: train_flow(params.model, params.train, params.mlflow))
