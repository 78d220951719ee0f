"""Stage ``baselines``: scikit-learn Perceptron and MLPClassifier as MLflow runs."""

from __future__ import annotations

from prefect import flow

from mnist_mlops.artifacts.metrics import BaselineMetrics
from mnist_mlops.artifacts.processed import load_splits
from mnist_mlops.config.params import BaselinesConfig, MlflowConfig
from mnist_mlops.config.paths import ProjectPaths
from mnist_mlops.evaluation.baselines import BaselineRun, baselines_metrics, run_baselines
from mnist_mlops.tracking.provenance import run_tags
from mnist_mlops.tracking.setup import setup_tracking
from pipelines._stage import main, stage_task


@stage_task(name="write-metrics")
def write_metrics(runs: dict[str, BaselineRun], paths: ProjectPaths) -> None:
    """Write each baseline's metrics file and the record of their full scores (atomically)."""
    for name, run in runs.items():
        BaselineMetrics.from_scores(run.scores).write(paths.baseline_metrics(name))
    baselines_metrics(runs).write(paths.baselines_record)


@flow(name="baselines", persist_result=False)
def baselines_flow(
    baselines: BaselinesConfig, mlflow: MlflowConfig, seed: int, paths: ProjectPaths
) -> dict[str, BaselineRun]:
    """Fit the baselines on the processed splits; write their metrics; return the runs."""
    splits = stage_task(load_splits)(paths.processed_dir)
    stage_task(setup_tracking)(mlflow, paths.root)
    tags = stage_task(run_tags)(paths.root, paths.raw_dir, paths.processed_dir)
    runs = stage_task(run_baselines)(splits, seed, tags, baselines.max_iter)
    write_metrics(runs, paths)
    return runs


if __name__ == "__main__":
    main(
        "baselines",
        lambda params, paths: baselines_flow(
            params.baselines, params.mlflow, params.train.seed, paths
        ),
    )
