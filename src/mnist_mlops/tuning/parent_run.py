"""The parent MLflow run of a study launch: parameters, summary, best trial and plots."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from optuna.trial import FrozenTrial

from mnist_mlops.config import MlflowConfig, TuneConfig
from mnist_mlops.tracking import flatten_params, log_metrics, log_params, run_tags, setup_tracking
from mnist_mlops.tuning.plots import write_study_plots
from mnist_mlops.tuning.storage import is_database
from mnist_mlops.tuning.trial_runs import RUN_ID_ATTR, TrialRuns, close_stale_run


def start_parent_run(
    mlflow_config: MlflowConfig,
    study: str,
    storage: str,
    tune: TuneConfig,
    workers: int,
    target: int,
    root: Path | None,
) -> TrialRuns:
    """Create the launch's parent run (params, provenance tags); return its child-run factory."""
    import mlflow
    from mlflow import MlflowClient

    experiment_id = setup_tracking(mlflow_config, root)
    uri = mlflow.get_tracking_uri()
    client = MlflowClient(uri)
    shown = storage if not is_database(storage) else storage.split("@")[-1]
    tags = run_tags(root) | {
        "mnist_mlops.stage": "tune",
        "optuna.study": study,
        "optuna.storage": shown,
    }
    run = client.create_run(experiment_id, run_name=f"tune-{study}", tags=tags)
    params = flatten_params(tune, "tune") | {
        "tune.study": study,
        "tune.n_trials": target,
        "tune.workers": workers,
    }
    log_params(run.info.run_id, params, client=client)
    return TrialRuns(uri, experiment_id, run.info.run_id, study)


def finish_parent_run(
    runs: TrialRuns, study: Any, result_counts: dict[str, int], best: FrozenTrial | None
) -> list[str]:
    """Log the counts, tag the best trial and log Optuna's plots on the parent run.

    Returns:
        The names of the plot files logged under ``optuna_plots/``.
    """
    client = runs.client()
    run_id = runs.parent_run_id
    log_metrics(
        run_id, {f"trials_{key}": value for key, value in result_counts.items()}, client=client
    )
    if best is not None:
        log_metrics(run_id, {"best_val_accuracy": best.value}, client=client)
        client.set_tag(run_id, "best_trial.number", str(best.number))
        client.set_tag(run_id, "best_trial.params", str(best.params))
        if best.user_attrs.get(RUN_ID_ATTR):
            client.set_tag(run_id, "best_trial.run_id", best.user_attrs[RUN_ID_ATTR])
    with tempfile.TemporaryDirectory() as folder:
        written = write_study_plots(study, folder)
        if written:
            client.log_artifacts(run_id, folder, "optuna_plots")
    return [path.name for path in written]


def stale_run_closer(runs: TrialRuns) -> Callable[[FrozenTrial], None]:
    """Return the stale-trial hook that closes the trial's MLflow run."""
    return lambda trial: close_stale_run(runs.tracking_uri, trial)
