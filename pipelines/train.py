"""Stage ``train``: fit the model from params (or tune's best params) in one MLflow run."""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from mnist_mlops.config import MlflowConfig, ModelConfig, TrainConfig
from mnist_mlops.data.preprocess import load_splits
from mnist_mlops.errors import MnistMlopsError
from mnist_mlops.tracking import flatten_params, run_tags, setup_tracking
from mnist_mlops.trained import TRAINED_DIR, save_trained
from mnist_mlops.training import train_tracked
from mnist_mlops.tuned import BEST_PARAMS_PATH, apply_best_params, load_best_params
from pipelines._stage import main, stage_task

PROCESSED_DIR = Path("data/processed")


@stage_task(name="resolve-params")
def resolve_params(
    model: ModelConfig, train: TrainConfig, best_params_path: Path
) -> tuple[ModelConfig, TrainConfig, dict[str, str]]:
    """Lay tune's best params over ``model`` / ``train`` when ``train.use_tuned`` is true."""
    tags = {"tuned": "false"}
    if train.use_tuned:
        if not Path(best_params_path).is_file():
            raise MnistMlopsError(
                f"{best_params_path} not found: run the tune stage (tune.n_trials: 0 writes a "
                "'skipped' file) or set train.use_tuned: false"
            )
        best = load_best_params(best_params_path)
        model, train = apply_best_params(model, train, best)
        if not best.get("skipped", False):
            tags = {
                "tuned": "true",
                "tuned.study": str(best.get("study")),
                "tuned.trial": str(best.get("trial")),
            }
    return model, train, tags


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
    model, train, tuned_tags = resolve_params(model, train, best_params_path)
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
