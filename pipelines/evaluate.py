"""Stage ``evaluate``: score the trained model on the test split; log into the training run."""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from mnist_mlops.config import MlflowConfig
from mnist_mlops.data.preprocess import load_splits
from mnist_mlops.evaluation import evaluate_model
from mnist_mlops.evaluation_outputs import (
    METRICS_PATH,
    PLOTS_DIR,
    log_outputs,
    render_plots,
    write_outputs,
)
from mnist_mlops.tracking import setup_tracking
from mnist_mlops.trained import TRAINED_DIR, load_trained
from pipelines._stage import main, stage_task

PROCESSED_DIR = Path("data/processed")


@flow(name="evaluate", persist_result=False)
def evaluate_flow(
    mlflow: MlflowConfig,
    processed_dir: Path = PROCESSED_DIR,
    trained_dir: Path = TRAINED_DIR,
    metrics_path: Path = METRICS_PATH,
    plots_dir: Path = PLOTS_DIR,
) -> dict:
    """Evaluate ``models/trained`` and write ``metrics/evaluate.json`` and ``plots/``."""
    model, run, history = stage_task(load_trained)(trained_dir)
    test = stage_task(load_splits)(processed_dir, ("test",))["test"]
    evaluation = stage_task(evaluate_model)(model, test)
    files = stage_task(render_plots)(evaluation, history, test.x)
    stage_task(setup_tracking)(mlflow)
    stage_task(log_outputs)(run["run_id"], evaluation, files)
    stage_task(write_outputs)(evaluation, files, metrics_path, plots_dir)
    return evaluation.metrics


if __name__ == "__main__":
    main("evaluate", lambda params: evaluate_flow(params.mlflow))
