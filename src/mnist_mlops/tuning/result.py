"""The result of a study launch: what it did, the study's counts and its best trial.

:meth:`LaunchResult.metrics` is the tune stage's study summary, ``best`` its best parameters and
:meth:`LaunchResult.run_info` its run record (:mod:`.outputs` writes them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mnist_mlops.artifacts.best_params import BestParams
from mnist_mlops.artifacts.metrics import TuneSummary
from mnist_mlops.artifacts.runs import TuneRunInfo
from mnist_mlops.tracking.setup import recorded_uri


@dataclass(frozen=True)
class LaunchResult:
    """What a launch did and what the study holds afterwards.

    Attributes:
        study: The study name.
        storage: The database URL or journal file path.
        target: The total of finished trials wanted.
        counts: The study's trials by state (:func:`~.summary.counts_summary`).
        best: The best considered trial (``None``: none completed).
        parent_run_id: The launch's MLflow parent run.
        duration_s: How long the launch took.
        plots: The Optuna plots logged on the parent run.
        considered: How many finished trials competed for the best (the first ``target``
            ones with ``best_of_first_n``, else all of them).
        tracking_uri: The MLflow store of the runs.
        experiment_id: The experiment of the parent run.
        trial_run_ids: ``{trial number: run id}`` of the considered trials.
    """

    study: str
    storage: str
    target: int
    counts: dict[str, int]
    best: BestParams | None
    parent_run_id: str
    duration_s: float
    plots: list[str] = field(default_factory=list)
    considered: int | None = None
    tracking_uri: str = ""
    experiment_id: str = ""
    trial_run_ids: dict[str, str] = field(default_factory=dict)

    def metrics(self) -> TuneSummary:
        """Return the tune stage's study summary (``records/tune.json``)."""
        considered = self.counts["finished"] if self.considered is None else self.considered
        return TuneSummary(
            skipped=False,
            study=self.study,
            n_trials_target=self.target,
            **self.counts,
            considered_trials=considered,
            study_finished_trials=self.counts["finished"],
            best_trial=self.best.trial if self.best else None,
            best_val_accuracy=self.best.value if self.best else None,
            duration_s=round(self.duration_s, 1),
            mlflow_parent_run_id=self.parent_run_id,
        )

    def run_info(self, experiment: str) -> TuneRunInfo:
        """Return the tune stage's run record (``runs/tune.json``).

        Args:
            experiment: The name of the runs' experiment (``mlflow.experiment``).
        """
        return TuneRunInfo(
            skipped=False,
            tracking_uri=recorded_uri(self.tracking_uri),
            experiment=experiment,
            experiment_id=self.experiment_id,
            study=self.study,
            parent_run_id=self.parent_run_id,
            trial_run_ids=self.trial_run_ids,
        )
