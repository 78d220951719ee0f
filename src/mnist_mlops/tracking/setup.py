"""Where MLflow records: the tracking store, the artifact root and the active experiment.

* :func:`setup_tracking` - point MLflow at the project's store and get or create the experiment
  (with a SQLite store, artifacts go to ``mlartifacts/`` beside the database, not ``./mlruns``).
* :func:`ui_link` - the MLflow UI page of the experiment, opened on the comparison
  (:data:`COMPARISON_VIEW`: the shared view state the stages store as an experiment tag);
* :func:`tracking_uri_for` - the store a command line uses (``params.yaml``'s ``mlflow`` section);
* :func:`recorded_uri`, :func:`recorded_location` - the store as the stages' ``runs/*.json``
  record it.
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
# MLflow 3's UI opens an experiment by its kind (the tag its "experiment type" selector sets):
# without it a new experiment is shown as GenAI (traces overview) rather than as model training.
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
EXPERIMENT_KIND = "custom_model_development"
# The runs table as the UI's Share button stores it (tag ``mlflow.sharedViewState.<key>``, a
# JSON of search facets and UI state, opened by ``?viewStateShareKey=<key>``): the models
# (tuning trials left out: they carry no stage tag; clear the search to see them), the metric
# columns that compare them, sorted by test accuracy, and the champion's tag.
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
    """Return the MLflow UI address of the experiment's runs table opened on the comparison.

    ``workflowType=machine_learning`` opens the model-training view (MLflow 3 opens GenAI
    otherwise); ``viewStateShareKey`` applies :data:`COMPARISON_VIEW`.
    """
    return (
        f"{base}/#/experiments/{experiment_id}/runs"
        f"?viewStateShareKey={VIEW_KEY}&workflowType=machine_learning"
    )


def sqlite_artifact_location(tracking_uri: str) -> str | None:
    """Return ``file://<db folder>/mlartifacts`` for a SQLite tracking URI, else ``None``.

    Args:
        tracking_uri: An MLflow tracking URI such as ``sqlite:////abs/path/mlflow.db``.

    Returns:
        The artifact root for new experiments, or ``None`` when the store decides
        (a tracking server, a database server, a file store).
    """
    parsed = urlparse(tracking_uri)
    if parsed.scheme != "sqlite":
        return None
    database = Path(unquote(parsed.path)).resolve()
    return (database.parent / ARTIFACTS_DIR_NAME).as_uri()


def setup_tracking(config: MlflowConfig, root: Path) -> str:
    """Set the tracking URI and make ``config.experiment`` the active experiment.

    The experiment is tagged as a model-training one (:data:`EXPERIMENT_KIND`) unless it
    already has a kind, so the MLflow UI opens it on its runs, and holds the shared view
    :data:`COMPARISON_VIEW` that :func:`ui_link` opens.

    The URI is ``MLFLOW_TRACKING_URI``, else ``mlflow.tracking_uri``, else
    ``sqlite:///<root>/mlflow.db`` (see :meth:`MlflowConfig.resolved_tracking_uri`). A new
    experiment on a SQLite store keeps its artifacts in ``mlartifacts/`` next to the database.
    The experiment's runs left RUNNING by a dead process of this host are marked KILLED
    (:func:`~mnist_mlops.tracking.owner.sweep_ghost_runs`).

    Args:
        config: The ``mlflow`` section.
        root: The project folder, which holds the default store.

    Returns:
        The experiment id.
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
    """Return the tracking store of the project whose ``params.yaml`` is ``params_path``.

    Args:
        params_path: The parameters file; when it does not exist, the defaults apply with
            its folder as the project root.

    Returns:
        ``MLFLOW_TRACKING_URI``, else ``mlflow.tracking_uri``, else the project's SQLite file.
    """
    params_path = Path(params_path)
    root = params_path.resolve().parent
    config = load_params(params_path).mlflow if params_path.is_file() else MlflowConfig()
    return config.resolved_tracking_uri(root)


def recorded_uri(tracking_uri: str) -> str:
    """Return ``tracking_uri`` without the user name and password it may hold.

    Args:
        tracking_uri: A tracking URI (``sqlite:///...``, ``http://user:secret@host:5000``).

    Returns:
        The URI as it may be written to a file: ``http://host:5000``.
    """
    parsed = urlparse(tracking_uri)
    if "@" not in parsed.netloc:
        return tracking_uri
    return urlunparse(parsed._replace(netloc=parsed.netloc.rsplit("@", 1)[1]))


def recorded_location(experiment: str, experiment_id: str) -> dict[str, str]:
    """Return the location fields of a ``runs/*.json`` record for the current store.

    Args:
        experiment: The experiment's name.
        experiment_id: Its id.

    Returns:
        ``tracking_uri`` (MLflow's current one, credentials left out), ``experiment`` and
        ``experiment_id``.
    """
    import mlflow

    return {
        "tracking_uri": recorded_uri(mlflow.get_tracking_uri()),
        "experiment": experiment,
        "experiment_id": experiment_id,
    }
