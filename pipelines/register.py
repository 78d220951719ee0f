"""Stage ``register``: register the trained model; promote it if better on the same data source."""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from mnist_mlops.config import MlflowConfig, RegisterConfig
from mnist_mlops.registry import register, write_summary
from mnist_mlops.tracking import setup_tracking
from pipelines._stage import main, stage_task

TRAINED_DIR, EVALUATE_PATH = Path("models/trained"), Path("metrics/evaluate.json")
PROCESSED_DIR, SUMMARY_PATH = Path("data/processed"), Path("metrics/register.json")


@flow(name="register", persist_result=False)
def register_flow(
    config: RegisterConfig,
    mlflow_config: MlflowConfig,
    trained_dir: Path = TRAINED_DIR,
    evaluate_path: Path = EVALUATE_PATH,
    processed_dir: Path = PROCESSED_DIR,
    summary_path: Path = SUMMARY_PATH,
) -> dict:
    """Register a new version (alias challenger), decide on champion, write the summary."""
    stage_task(setup_tracking)(mlflow_config)
    summary = stage_task(register)(config, trained_dir, evaluate_path, processed_dir)
    stage_task(write_summary)(summary, summary_path)
    return summary


if __name__ == "__main__":
    main("register", lambda params: register_flow(params.registry, params.mlflow))
