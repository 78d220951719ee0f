"""Stage ``tune``: the Optuna study over the processed data; writes tune's best params."""

from __future__ import annotations

from mnist_mlops.artifacts.best_params import BestParams
from mnist_mlops.artifacts.metrics import TuneSummary
from mnist_mlops.artifacts.runs import TuneRunInfo
from mnist_mlops.config.params import MlflowConfig, ModelConfig, Params, TrainConfig, TuneConfig
from mnist_mlops.config.paths import ProjectPaths
from mnist_mlops.tuning.launch import launch
from mnist_mlops.tuning.outputs import pipeline_study_name, write_outputs, write_skipped
from pipelines._stage import stage_flow, stage_task


@stage_task(name="run-study")
def run_study(
    tune: TuneConfig,
    model: ModelConfig,
    train: TrainConfig,
    mlflow: MlflowConfig,
    paths: ProjectPaths,
) -> tuple[BestParams | None, TuneSummary, TuneRunInfo]:
    """Run the study to ``tune.n_trials`` finished trials; return best, summary, runs.

    Only the first ``tune.n_trials`` finished trials (by number) compete for the best, whatever
    else the storage holds.
    """
    name = pipeline_study_name(tune, model, train, paths.processed_dir)
    result = launch(
        tune.model_copy(update={"study": name}),
        model,
        train,
        mlflow,
        processed_dir=paths.processed_dir,
        raw_dir=paths.raw_dir,
        root=paths.root,
        best_of_first_n=True,
    )
    return result.best, result.metrics(), result.run_info(mlflow.experiment)


@stage_flow("tune")
def tune_flow(
    tune: TuneConfig,
    model: ModelConfig,
    train: TrainConfig,
    mlflow: MlflowConfig,
    paths: ProjectPaths,
) -> BestParams:
    """Tune (or skip when ``tune.n_trials`` is 0) and write the best params and metrics."""
    if tune.n_trials == 0:
        return stage_task(write_skipped)(
            paths.best_params, paths.tune_metrics, paths.tune_summary, paths.tune_runs
        )
    best, summary, runs = run_study(tune, model, train, mlflow, paths)
    return stage_task(write_outputs)(
        best,
        summary,
        runs,
        paths.best_params,
        paths.tune_metrics,
        paths.tune_summary,
        paths.tune_runs,
    )


def run(params: Params, paths: ProjectPaths) -> object:
    """Run the stage's flow with its sections of ``params`` (``python -m pipelines tune``)."""
    return tune_flow(params.tune, params.model, params.train, params.mlflow, paths)
