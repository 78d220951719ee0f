"""Stage ``tune``: the Optuna study over the processed data; writes tune's best params.

The best trial is chosen among the first ``tune.n_trials`` finished trials (by trial number)
of the study, whatever else the persistent storage holds, so that ``best_params.json`` is a
function of ``params.yaml`` and the data; ``metrics/tune.json`` says how many trials were
considered (``considered_trials``) and how many the study holds (``study_finished_trials``).
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from mnist_mlops.config import MlflowConfig, ModelConfig, TrainConfig, TuneConfig
from mnist_mlops.tuned import BEST_PARAMS_PATH
from mnist_mlops.tuning.launch import launch
from mnist_mlops.tuning.outputs import pipeline_study_name, write_outputs, write_skipped
from pipelines._stage import main, stage_task

PROCESSED_DIR = Path("data/processed")
METRICS_PATH = Path("metrics/tune.json")


@stage_task(name="run-study")
def run_study(
    tune: TuneConfig,
    model: ModelConfig,
    train: TrainConfig,
    mlflow: MlflowConfig,
    processed_dir: Path,
) -> tuple[dict | None, dict]:
    """Run the pipeline's study to ``tune.n_trials`` finished trials; return best and metrics.

    Only the study's first ``tune.n_trials`` finished trials compete for the best one.
    """
    name = pipeline_study_name(tune, model, train, processed_dir)
    result = launch(
        tune, model, train, mlflow, processed_dir, study_name=name, best_of_first_n=True
    )
    return result.best, result.metrics()


@flow(name="tune", persist_result=False)
def tune_flow(
    tune: TuneConfig,
    model: ModelConfig,
    train: TrainConfig,
    mlflow: MlflowConfig,
    processed_dir: Path = PROCESSED_DIR,
    best_path: Path = BEST_PARAMS_PATH,
    metrics_path: Path = METRICS_PATH,
) -> dict:
    """Tune (or skip when ``tune.n_trials`` is 0) and write the best params and metrics."""
    if tune.n_trials == 0:
        return stage_task(write_skipped)(best_path, metrics_path)
    best, metrics = run_study(tune, model, train, mlflow, processed_dir)
    return stage_task(write_outputs)(best, metrics, best_path, metrics_path)


if __name__ == "__main__":
    main(
        "tune",
        lambda params: tune_flow(params.tune, params.model, params.train, params.mlflow),
    )
