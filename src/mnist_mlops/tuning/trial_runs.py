"""The MLflow child run of each trial, nested under the launch's parent run.

A child run is named ``trial <number>`` (``(pruned)`` / ``(failed)`` appended once it ended
so), tagged ``optuna.trial_state`` and ``optuna.reason``, and ends FINISHED (complete or
pruned: the pruner stopped it as designed) or FAILED.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mnist_mlops.artifacts.best_params import BestParams
from mnist_mlops.config.params import ModelConfig, TrainConfig
from mnist_mlops.tracking.log import flatten_params, log_metrics, log_params
from mnist_mlops.tracking.owner import owner_tags

if TYPE_CHECKING:
    import optuna
    from mlflow import MlflowClient
    from optuna.trial import FrozenTrial

logger = logging.getLogger(__name__)

RUN_STATUS = {"COMPLETE": "FINISHED", "PRUNED": "FINISHED", "FAIL": "FAILED"}
SUFFIXED_STATES = {"PRUNED": "pruned", "FAIL": "failed"}
STATE_TAG = "optuna.trial_state"
REASON_TAG = "optuna.reason"
RUN_ID_ATTR = "mlflow_run_id"


def tuned_params(model: ModelConfig, train: TrainConfig) -> dict[str, str]:
    """Return a trial's ``model`` and tuned ``train`` values under their ``params.yaml`` names."""
    shape = BestParams.from_trial(study="", trial=0, value=0.0, model=model, train=train)
    return flatten_params(model, "model") | flatten_params(shape.train or {}, "train")


@dataclass(frozen=True)
class TrialRuns:
    """Creates and closes the child runs of one parent run (picklable: sent to workers).

    Attributes are the tracking URI, the parent run's experiment and id, the study name.
    """

    tracking_uri: str
    experiment_id: str
    parent_run_id: str
    study: str

    def client(self) -> MlflowClient:
        """Return a client on the tracking URI."""
        from mlflow import MlflowClient

        return MlflowClient(self.tracking_uri)

    def start(self, trial: optuna.Trial, model: ModelConfig, train: TrainConfig) -> str:
        """Create the trial's child run with its parameters; return its run id."""
        client = self.client()
        run = client.create_run(
            self.experiment_id,
            run_name=trial_run_name(trial.number),
            tags={
                "mlflow.parentRunId": self.parent_run_id,
                "optuna.study": self.study,
                "optuna.trial_number": str(trial.number),
                "optuna.worker": f"{socket.gethostname()}:{os.getpid()}",
                STATE_TAG: "RUNNING",
            }
            | owner_tags(),
        )
        run_id = run.info.run_id
        log_params(run_id, tuned_params(model, train), client=client)
        trial.set_user_attr(RUN_ID_ATTR, run_id)
        return run_id

    def finish(
        self,
        run_id: str,
        state: str,
        value: float | None,
        duration_s: float,
        reason: str | None = None,
    ) -> None:
        """Record the trial's outcome and close its child run."""
        client = self.client()
        metrics: dict[str, Any] = {"trial_duration_s": duration_s}
        if value is not None:
            metrics["objective_val_accuracy"] = value
        log_metrics(run_id, metrics, client=client)
        client.set_tag(run_id, STATE_TAG, state)
        if reason:
            client.set_tag(run_id, REASON_TAG, reason[:4000])
        if state in SUFFIXED_STATES:
            number = client.get_run(run_id).data.tags.get("optuna.trial_number", "?")
            client.set_tag(run_id, "mlflow.runName", trial_run_name(number, state))
        client.set_terminated(run_id, RUN_STATUS.get(state, "FAILED"))


def trial_run_name(number: int | str, state: str | None = None) -> str:
    """Return ``trial 7``, or ``trial 7 (pruned)`` / ``(failed)`` once it ended so."""
    suffix = f" ({SUFFIXED_STATES[state]})" if state in SUFFIXED_STATES else ""
    return f"trial {number}{suffix}"


def trial_run_ids(trials: Sequence[FrozenTrial]) -> dict[str, str]:
    """Return ``{trial number: MLflow run id}`` of the trials that have a run."""
    return {
        str(trial.number): trial.user_attrs[RUN_ID_ATTR]
        for trial in trials
        if trial.user_attrs.get(RUN_ID_ATTR)
    }


def close_stale_run(tracking_uri: str, trial: FrozenTrial) -> None:
    """Tag a stale trial's child run ``FAIL``; close it FAILED if it is still RUNNING.

    A run already ended keeps its status. Errors of the tracking store are logged, not raised.
    """
    from mlflow import MlflowClient

    run_id = trial.user_attrs.get(RUN_ID_ATTR)
    if not run_id:
        return
    client = MlflowClient(tracking_uri)
    try:
        client.set_tag(run_id, STATE_TAG, "FAIL")
        if client.get_run(run_id).info.status != "RUNNING":
            return
        client.set_tag(run_id, REASON_TAG, "worker stopped: no heartbeat (killed?)")
        client.set_terminated(run_id, "FAILED")
    except Exception:
        logger.warning("could not close the MLflow run %s of trial %d", run_id, trial.number)
