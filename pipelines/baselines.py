"""Stage ``baselines``: scikit-learn Perceptron and MLPClassifier as MLflow runs."""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from mnist_mlops.artifacts.base import JsonArtifact
from mnist_mlops.artifacts.processed import load_splits
from mnist_mlops.config.params import BaselinesConfig, MlflowConfig
from mnist_mlops.config.paths import ProjectPaths
from mnist_mlops.evaluation.baselines import (
    BaselineRun,
    baselines_metrics,
    baselines_record,
    run_baselines,
)
from mnist_mlops.tracking.provenance import run_tags
from mnist_mlops.tracking.setup import setup_tracking
from pipelines._stage import main, stage_task


@stage_task(name="write-file")
def write_file(artifact: JsonArtifact, path: Path) -> None:
    """Write one of the stage's files (atomically)."""
    artifact.write(path)


@flow(name="baselines", persist_result=False)
def baselines_flow(
    baselines: BaselinesConfig, mlflow: MlflowConfig, seed: int, paths: ProjectPaths
) -> dict[str, BaselineRun]:
    """Fit the baselines on the processed splits; write metrics and run record; return the runs."""
    splits = stage_task(load_splits)(paths.processed_dir)
    stage_task(setup_tracking)(mlflow, paths.root)
    tags = stage_task(run_tags)(paths.root, paths.raw_dir, paths.processed_dir)
    runs = stage_task(run_baselines)(splits, seed, tags, baselines.max_iter)
    write_file(baselines_metrics(runs), paths.baselines_metrics)
    write_file(baselines_record(runs, mlflow.experiment), paths.baselines_runs)
    return runs


if __name__ == "__main__":
    main(
        "baselines",
        lambda params, paths: baselines_flow(
            params.baselines, params.mlflow, params.train.seed, paths
        ),
    )
