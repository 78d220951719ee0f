"""``runs/<stage>.json``: the MLflow runs a stage recorded (see docs/decisions/run-records.md).

Locations are in :class:`mnist_mlops.config.paths.ProjectPaths`.
"""

from __future__ import annotations

from mnist_mlops.artifacts.base import JsonArtifact


class RunRecord(JsonArtifact):
    """Where a stage's runs are: tracking URI (no credentials), experiment name and id."""

    tracking_uri: str
    experiment: str
    experiment_id: str


class TrainedRunInfo(RunRecord):
    """``runs/train.json``: the training run and its logged Keras model (``""``: none)."""

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
    """``runs/register.json``: the registered version, its aliases and where it came from.

    ``aliases`` holds ``challenger``, and ``champion`` when promoted; ``run_id`` and
    ``logged_model_uri`` are the training run and the logged model it was registered from.
    """

    PRODUCER = "register"

    model_name: str
    version: str
    aliases: list[str]
    run_id: str
    logged_model_uri: str


class TuneRunInfo(JsonArtifact):
    """``runs/tune.json``: the launch's parent run and ``{trial number: run id}`` of its trials.

    With ``skipped`` true (``tune.n_trials: 0``) no other field is set. A trial finished by an
    earlier launch has its run under that launch's parent run.
    """

    PRODUCER = "tune"
    OMIT_NONE = True  # a skipped marker is {"skipped": true}

    skipped: bool
    tracking_uri: str | None = None
    experiment: str | None = None
    experiment_id: str | None = None
    study: str | None = None
    parent_run_id: str | None = None
    trial_run_ids: dict[str, str] | None = None
