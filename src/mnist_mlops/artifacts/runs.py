"""``runs/<stage>.json``: the MLflow runs a stage recorded (DVC-cached, not committed to git).

Every stage that writes to MLflow has one of these files as a cached DVC output. A fresh clone
has no DVC cache, so DVC re-runs each of those stages (the committed ``metrics/*.json`` files
alone would let it skip them) and the clone's MLflow store gets the whole record. Each file
names its runs and where they are: the tracking URI (without credentials), the experiment and
its id.

* :class:`TuneRunInfo` - ``runs/tune.json``: the launch's parent run and its trials' runs;
* :class:`TrainedRunInfo` - ``runs/train.json``: the training run (evaluate and register log
  into it);
* :class:`EvaluateRunInfo` - ``runs/evaluate.json``: the run the test metrics went into;
* :class:`BaselinesRunInfo` - ``runs/baselines.json``: one run per baseline;
* :class:`RegisterRunInfo` - ``runs/register.json``: the registered version and its aliases.

Their locations are in :class:`mnist_mlops.config.paths.ProjectPaths`.
"""

from __future__ import annotations

from typing import Any

from mnist_mlops.artifacts.base import JsonArtifact


class RunRecord(JsonArtifact):
    """Where a stage's runs are.

    Attributes:
        tracking_uri: The MLflow tracking URI (credentials left out).
        experiment: The experiment's name.
        experiment_id: Its id in that store.
    """

    tracking_uri: str
    experiment: str
    experiment_id: str


class TrainedRunInfo(RunRecord):
    """``runs/train.json``: the training run of the trained model.

    Attributes:
        run_id: The training run.
        model_uri: The Keras model logged in it (``""`` when not logged).
    """

    PRODUCER = "train"

    run_id: str
    model_uri: str = ""


class EvaluateRunInfo(RunRecord):
    """``runs/evaluate.json``: the training run that received the test metrics and plots."""

    PRODUCER = "evaluate"

    run_id: str


class BaselinesRunInfo(RunRecord):
    """``runs/baselines.json``: ``{baseline name: run id}``."""

    PRODUCER = "baselines"

    run_ids: dict[str, str]


class RegisterRunInfo(RunRecord):
    """``runs/register.json``: the version registered from the training run.

    Attributes:
        model_name: The registered model.
        version: The new version.
        aliases: The aliases it took (``challenger``, and ``champion`` when promoted).
        run_id: The training run its model was logged into.
        logged_model_uri: The logged model it was registered from.
    """

    PRODUCER = "register"

    model_name: str
    version: str
    aliases: list[str]
    run_id: str
    logged_model_uri: str


class TuneRunInfo(JsonArtifact):
    """``runs/tune.json``: the launch's parent run and the runs of the considered trials.

    Attributes:
        skipped: ``True`` when ``tune.n_trials`` is 0 (no run was recorded, no other field).
        tracking_uri: The MLflow tracking URI (credentials left out).
        experiment: The experiment's name.
        experiment_id: Its id in that store.
        study: The Optuna study.
        parent_run_id: This launch's parent run.
        trial_run_ids: ``{trial number: run id}`` of the trials that competed for the best
            (a trial finished by an earlier launch has its run under that launch's parent).
    """

    PRODUCER = "tune"

    skipped: bool
    tracking_uri: str | None = None
    experiment: str | None = None
    experiment_id: str | None = None
    study: str | None = None
    parent_run_id: str | None = None
    trial_run_ids: dict[str, str] | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the file's content (a skipped marker is ``{"skipped": true}``)."""
        return self.model_dump(mode="json", exclude_none=True)
