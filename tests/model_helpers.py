"""Tiny trained models and the train stage's outputs, for the registry and serving tests."""

from __future__ import annotations

import os
from pathlib import Path

from mnist_mlops.config import ModelConfig, OptimizerConfig
from mnist_mlops.data.preprocess import Split, save_splits
from mnist_mlops.io import write_json
from mnist_mlops.model import build_model, set_determinism

EXPERIMENT = "mnist-mlops-test"


def use_test_store() -> None:
    """Point MLflow at this test's store (an earlier ``set_tracking_uri`` wins over the env)."""
    from mnist_mlops.config import MlflowConfig
    from mnist_mlops.tracking import setup_tracking

    # setup_tracking keeps artifacts beside the test's sqlite file (never ./mlruns) and makes
    # EXPERIMENT active (the active experiment may be one of an earlier test's store).
    setup_tracking(
        MlflowConfig(experiment=EXPERIMENT, tracking_uri=os.environ["MLFLOW_TRACKING_URI"])
    )


def tiny_model(train: Split | None = None, epochs: int = 3, seed: int = 0, hidden: int = 32):
    """A small MLP; fitted on ``train`` when given (untrained weights otherwise)."""
    set_determinism(seed)
    model = build_model(ModelConfig(hidden_layers=[hidden]), OptimizerConfig(learning_rate=0.01))
    if train is not None:
        model.fit(train.x, train.y, epochs=epochs, batch_size=32, verbose=0)
    return model


def write_processed(splits: dict[str, Split], folder: Path) -> Path:
    """Write splits and meta.json as the preprocess stage does."""
    folder.mkdir(parents=True, exist_ok=True)
    save_splits(splits, folder)
    write_json(folder / "meta.json", {"source": "synthetic", "counts": {}})
    return folder


def write_trained(model, folder: Path, evaluate_path: Path, test: Split) -> str:
    """Save the model, an MLflow training run (run.json) and evaluate.json; return the run id."""
    import mlflow

    folder.mkdir(parents=True, exist_ok=True)
    model.save(folder / "model.keras")
    use_test_store()
    with mlflow.start_run() as run:
        mlflow.log_params({"model.hidden_layers": "[32]", "train.epochs": 3})
    loss, accuracy = model.evaluate(test.x, test.y, verbose=0)
    write_json(folder / "run.json", {"run_id": run.info.run_id})
    write_json(evaluate_path, {"test_accuracy": accuracy, "test_loss": loss, "macro_f1": 0.5})
    return run.info.run_id
