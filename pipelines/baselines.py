"""Stage ``baselines``: scikit-learn Perceptron and MLPClassifier as MLflow runs."""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from mnist_mlops.baselines import run_baselines
from mnist_mlops.config import MlflowConfig
from mnist_mlops.data.preprocess import load_splits
from mnist_mlops.io import write_json
from mnist_mlops.tracking import run_tags, setup_tracking
from pipelines._stage import main, stage_task

PROCESSED_DIR = Path("data/processed")
METRICS_PATH = Path("metrics/baselines.json")


@flow(name="baselines", persist_result=False)
def baselines_flow(
    mlflow: MlflowConfig,
    seed: int,
    processed_dir: Path = PROCESSED_DIR,
    metrics_path: Path = METRICS_PATH,
    max_iter: int | None = None,
) -> dict:
    """Fit the baselines on the processed splits; write ``metrics/baselines.json``."""
    splits = stage_task(load_splits)(processed_dir)
    stage_task(setup_tracking)(mlflow)
    tags = stage_task(run_tags)()
    results = stage_task(run_baselines)(splits, seed, tags, max_iter)
    metrics = {
        name: {key: value for key, value in values.items() if key != "run_id"}
        for name, values in results.items()
    }
    stage_task(write_json)(metrics_path, metrics)
    return results


if __name__ == "__main__":
    main("baselines", lambda params: baselines_flow(params.mlflow, params.train.seed))
