"""The result of a study launch and the tune stage's records built from it."""

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
        target: The total of finished trials wanted.
        counts: The study's trials by state (:func:`~.summary.counts_summary`).
        best: The best considered trial (``None``: none completed).
        considered: How many finished trials competed for the best.
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
    considered: int = 0
    tracking_uri: str = ""
    experiment_id: str = ""
    trial_run_ids: dict[str, str] = field(default_factory=dict)

    def metrics(self) -> TuneSummary:
        """Return the tune stage's study summary (``records/tune.json``)."""
        return TuneSummary(
            skipped=False,
            study=self.study,
            n_trials_target=self.target,
            **self.counts,
            considered_trials=self.considered,
            study_finished_trials=self.counts["finished"],
            best_trial=self.best.trial if self.best else None,
            best_val_accuracy=self.best.value if self.best else None,
            duration_s=round(self.duration_s, 1),
            mlflow_parent_run_id=self.parent_run_id,
        )

    def run_info(self, experiment: str) -> TuneRunInfo:
        """Return the tune stage's run record (``runs/tune.json``) in ``experiment``."""
        return TuneRunInfo(
            skipped=False,
            tracking_uri=recorded_uri(self.tracking_uri),
            experiment=experiment,
            experiment_id=self.experiment_id,
            study=self.study,
            parent_run_id=self.parent_run_id,
            trial_run_ids=self.trial_run_ids,
        )
