"""Where MLflow records: the tracking store, the artifact root and the active experiment.

The experiment kind and comparison view tags: docs/decisions/mlflow-experiment-view.md.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from urllib.parse import unquote, urlparse, urlunparse

from mnist_mlops.config.params import MlflowConfig, load_params
from mnist_mlops.config.paths import RELATIVE
from mnist_mlops.tracking.owner import sweep_ghost_runs

logger = logging.getLogger(__name__)

ARTIFACTS_DIR_NAME = RELATIVE["mlflow_artifacts"]
_swept: set[tuple[str, str]] = set()
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
EXPERIMENT_KIND = "custom_model_development"
VIEW_KEY = "comparison"
VIEW_TAG = f"mlflow.sharedViewState.{VIEW_KEY}"
CHAMPION_TAG = "champion"  # set on the champion's training run by the register stage
COMPARISON_COLUMNS = [
    f"tags.`{CHAMPION_TAG}`",
    "metrics.`test_accuracy`",
    "metrics.`val_accuracy`",
    "metrics.`test_loss`",
    "metrics.`val_loss`",
    "metrics.`fit_time_s`",
]
COMPARISON_VIEW = {
    "searchFilter": "tags.stage != 'tune'",
    "orderByKey": "metrics.`test_accuracy`",
    "orderByAsc": False,
    "startTime": "ALL",
    "lifecycleFilter": "Active",
    "modelVersionFilter": "All Runs",
    "datasetsFilter": [],
    "selectedColumns": COMPARISON_COLUMNS,
    "runListHidden": False,
    "viewMaximized": False,
}


def ui_link(experiment_id: str, base: str = "http://127.0.0.1:5000") -> str:
    """Return the MLflow UI address of the experiment's runs table, on :data:`COMPARISON_VIEW`."""
    return (
        f"{base}/#/experiments/{experiment_id}/runs"
        f"?viewStateShareKey={VIEW_KEY}&workflowType=machine_learning"
    )


def sqlite_artifact_location(tracking_uri: str) -> str | None:
    """Return ``file://<db folder>/mlartifacts`` for a SQLite tracking URI, else ``None``."""
    parsed = urlparse(tracking_uri)
    if parsed.scheme != "sqlite":
        return None
    database = Path(unquote(parsed.path)).resolve()
    return (database.parent / ARTIFACTS_DIR_NAME).as_uri()


def setup_tracking(config: MlflowConfig, root: Path) -> str:
    """Point MLflow at :meth:`MlflowConfig.resolved_tracking_uri` and activate the experiment.

    A new experiment on SQLite keeps artifacts in ``mlartifacts/`` beside the database; the
    experiment gets the kind and comparison-view tags; runs left RUNNING by a dead process of
    this host are marked KILLED (once per process). Returns the experiment id.
    """
    import mlflow

    uri = config.resolved_tracking_uri(root)
    mlflow.set_tracking_uri(uri)
    experiment = mlflow.get_experiment_by_name(config.experiment)
    if experiment is None:
        location = sqlite_artifact_location(uri)
        try:
            experiment_id = mlflow.create_experiment(
                config.experiment,
                artifact_location=location,
                tags={EXPERIMENT_KIND_TAG: EXPERIMENT_KIND},
            )
        except mlflow.exceptions.MlflowException:
            # another process created it meanwhile (parallel tuning workers)
            created = mlflow.get_experiment_by_name(config.experiment)
            if created is None:
                raise
            experiment_id = created.experiment_id
    else:
        experiment_id = experiment.experiment_id
        if EXPERIMENT_KIND_TAG not in experiment.tags:  # an older store: kind not chosen yet
            mlflow.MlflowClient(uri).set_experiment_tag(
                experiment_id, EXPERIMENT_KIND_TAG, EXPERIMENT_KIND
            )
    view = json.dumps(COMPARISON_VIEW, separators=(",", ":"))
    if experiment is None or experiment.tags.get(VIEW_TAG) != view:
        mlflow.MlflowClient(uri).set_experiment_tag(experiment_id, VIEW_TAG, view)
    mlflow.set_experiment(experiment_id=experiment_id)
    if (uri, experiment_id) not in _swept:  # once per process and experiment
        sweep_ghost_runs(experiment_id)
        _swept.add((uri, experiment_id))
    logger.info("MLflow: %s, experiment %r (%s)", uri, config.experiment, experiment_id)
    return experiment_id


def tracking_uri_for(params_path: str | Path) -> str:
    """Return the tracking store of the project of ``params_path`` (defaults if it is missing)."""
    params_path = Path(params_path)
    root = params_path.resolve().parent
    config = load_params(params_path).mlflow if params_path.is_file() else MlflowConfig()
    return config.resolved_tracking_uri(root)


def recorded_uri(tracking_uri: str) -> str:
    """Return ``tracking_uri`` without the user name and password it may hold."""
    parsed = urlparse(tracking_uri)
    if "@" not in parsed.netloc:
        return tracking_uri
    return urlunparse(parsed._replace(netloc=parsed.netloc.rsplit("@", 1)[1]))


def recorded_location(experiment: str, experiment_id: str) -> dict[str, str]:
    """Return a ``runs/*.json`` record's ``tracking_uri`` (no credentials) and experiment."""
    import mlflow

    return {
        "tracking_uri": recorded_uri(mlflow.get_tracking_uri()),
        "experiment": experiment,
        "experiment_id": experiment_id,
    }
