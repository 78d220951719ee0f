"""The parent MLflow run of a study launch: parameters, summary, best trial and plots."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from optuna.trial import FrozenTrial

from mnist_mlops.config.params import MlflowConfig, TuneConfig
from mnist_mlops.tracking.log import flatten_params, log_metrics, log_params
from mnist_mlops.tracking.owner import owner_tags
from mnist_mlops.tracking.provenance import run_name, run_tags
from mnist_mlops.tracking.setup import setup_tracking
from mnist_mlops.tuning.plots import write_study_plots
from mnist_mlops.tuning.storage import is_database
from mnist_mlops.tuning.study import trial_value
from mnist_mlops.tuning.trial_runs import RUN_ID_ATTR, TrialRuns


def shown_storage(storage: str) -> str:
    """Return ``storage`` as it may be recorded: a database URL without its credentials."""
    return storage if not is_database(storage) else storage.split("@")[-1]


def start_parent_run(
    mlflow_config: MlflowConfig,
    tune: TuneConfig,
    storage: str,
    root: Path,
    raw_dir: Path,
    processed_dir: Path,
) -> TrialRuns:
    """Create the launch's parent run (``tune`` params, provenance tags); return its runs.

    A database ``storage`` is recorded without credentials; ``root`` is the project folder,
    ``raw_dir`` / ``processed_dir`` the data the tags describe.
    """
    import mlflow
    from mlflow import MlflowClient

    experiment_id = setup_tracking(mlflow_config, root)
    uri = mlflow.get_tracking_uri()
    client = MlflowClient(uri)
    tags = (
        run_tags(root, Path(raw_dir), Path(processed_dir))
        | {
            "mnist_mlops.stage": "tune",
            "optuna.study": tune.study,
            "optuna.storage": shown_storage(storage),
        }
        | owner_tags()
    )
    details = [f"{tune.n_trials} trials", f"{tune.pruner} pruner"]
    name = run_name(f"study {tune.study}", details, tags)
    run = client.create_run(experiment_id, run_name=name, tags=tags)
    params = flatten_params(tune, "tune")
    if tune.storage is not None:
        params["tune.storage"] = shown_storage(tune.storage)
    log_params(run.info.run_id, params, client=client)
    return TrialRuns(uri, experiment_id, run.info.run_id, tune.study)


def finish_parent_run(
    runs: TrialRuns, study: Any, result_counts: dict[str, int], best: FrozenTrial | None
) -> list[str]:
    """Log the counts, the best trial and Optuna's plots on the parent run; return plot names."""
    client = runs.client()
    run_id = runs.parent_run_id
    log_metrics(
        run_id, {f"trials_{key}": value for key, value in result_counts.items()}, client=client
    )
    if best is not None:
        log_metrics(run_id, {"best_val_accuracy": trial_value(best)}, client=client)
        client.set_tag(run_id, "best_trial.number", str(best.number))
        client.set_tag(run_id, "best_trial.params", str(best.params))
        if best.user_attrs.get(RUN_ID_ATTR):
            client.set_tag(run_id, "best_trial.run_id", best.user_attrs[RUN_ID_ATTR])
    with tempfile.TemporaryDirectory() as folder:
        written = write_study_plots(study, folder)
        if written:
            client.log_artifacts(run_id, folder, "optuna_plots")
    return [path.name for path in written]
