"""Tiny trained models and the train stage's outputs, for the registry and serving tests."""

from __future__ import annotations

import os
from pathlib import Path

from mnist_mlops.artifacts.metrics import EvaluateMetrics
from mnist_mlops.artifacts.processed import ProcessedMeta, Split, save_splits
from mnist_mlops.artifacts.runs import TrainedRunInfo
from mnist_mlops.artifacts.trained import save_trained
from mnist_mlops.config.params import ModelConfig, OptimizerConfig
from mnist_mlops.config.paths import ProjectPaths
from mnist_mlops.training.model import build_model, set_determinism

EXPERIMENT = "mnist-mlops-test"


def use_test_store() -> str:
    """Point MLflow at this test's store (an earlier ``set_tracking_uri`` wins over the env).

    Returns:
        The id of the active experiment :data:`EXPERIMENT`.
    """
    from mnist_mlops.config.params import MlflowConfig
    from mnist_mlops.tracking.setup import setup_tracking

    # setup_tracking keeps artifacts beside the test's sqlite file (never ./mlruns) and makes
    # EXPERIMENT active (the active experiment may be one of an earlier test's store).
    uri = os.environ["MLFLOW_TRACKING_URI"]
    root = Path(uri.removeprefix("sqlite:///")).parent
    return setup_tracking(MlflowConfig(experiment=EXPERIMENT, tracking_uri=uri), root)


def tiny_model(train: Split | None = None, epochs: int = 3, seed: int = 0, hidden: int = 32):
    """A small MLP; fitted on ``train`` when given (untrained weights otherwise)."""
    set_determinism(seed)
    model = build_model(ModelConfig(hidden_layers=[hidden]), OptimizerConfig(learning_rate=0.01))
    if train is not None:
        model.fit(train.x, train.y, epochs=epochs, batch_size=32, verbose=0)
    return model


def write_processed(splits: dict[str, Split], folder: Path, source: str = "synthetic") -> Path:
    """Write splits and their :class:`ProcessedMeta` as the preprocess stage does."""
    folder.mkdir(parents=True, exist_ok=True)
    save_splits(splits, folder)
    counts = {name: len(split.y) for name, split in splits.items()}
    ProcessedMeta(source=source, official_test_split=False, counts=counts, seed=0).save(folder)
    return folder


def write_trained(model, paths: ProjectPaths, test: Split) -> str:
    """Save the model, a training run (its run record) and its test metrics; return the run id."""
    import mlflow

    experiment_id = use_test_store()
    with mlflow.start_run() as run:
        mlflow.log_params({"model.hidden_layers": "[32]", "train.epochs": 3})
    TrainedRunInfo(
        run_id=run.info.run_id,
        experiment_id=experiment_id,
        experiment=EXPERIMENT,
        tracking_uri=mlflow.get_tracking_uri(),
    ).write(paths.train_run)
    save_trained(model, {}, paths.trained_dir)
    loss, accuracy = model.evaluate(test.x, test.y, verbose=0)
    EvaluateMetrics(test_accuracy=accuracy, test_loss=loss, macro_f1=0.5).write(
        paths.evaluate_metrics
    )
    return run.info.run_id


def register_trained(paths: ProjectPaths, config, model=None, test: Split | None = None):
    """Run the register stage's function on ``paths`` (after :func:`write_trained` of
    ``model`` when given); return ``(run id or None, RegisterSummary)``."""
    from mnist_mlops.registry.register import register

    run_id = write_trained(model, paths, test) if model is not None else None
    args = (paths.trained_dir, paths.train_run, paths.evaluate_metrics, paths.processed_dir)
    return run_id, register(config, *args, paths.root)
