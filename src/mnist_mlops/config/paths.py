"""Every file and folder of a project, relative to its root (the folder of ``params.yaml``).

``dvc.yaml`` names the same paths (a test checks that they agree); library functions take the
paths they need as arguments and never look at the current directory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

PARAMS_FILE = "params.yaml"

# Each location as ``dvc.yaml`` spells it, relative to the project root.
RELATIVE = {
    "params_file": PARAMS_FILE,
    "raw_dir": "data/raw",
    "processed_dir": "data/processed",
    "reports_dir": "data/reports",
    "feedback_dir": "data/feedback",
    "best_params": "tuning/best_params.json",
    "trained_dir": "models/trained",
    "tune_metrics": "metrics/tune.json",
    "evaluate_metrics": "metrics/evaluate.json",
    "feedback_metrics": "metrics/feedback.json",
    "perceptron_metrics": "metrics/perceptron.json",
    "mlp_metrics": "metrics/mlp.json",
    "course_metrics": "metrics/course.json",
    "tune_summary": "records/tune.json",
    "baselines_record": "records/baselines.json",
    "course_predictions": "records/course_predictions.json",
    "comparison_record": "records/comparison.json",
    "register_metrics": "records/register.json",
    "tune_runs": "runs/tune.json",
    "train_run": "runs/train.json",
    "evaluate_run": "runs/evaluate.json",
    "baselines_runs": "runs/baselines.json",
    "register_run": "runs/register.json",
    "plots_dir": "plots",
    "exercises_dir": "reports/exercises",
    "mlflow_db": "mlflow.db",
    "mlflow_artifacts": "mlartifacts",
    "optuna_journal": "optuna.journal",
    "predictions_db": "predictions.db",
}


@dataclass(frozen=True)
class ProjectPaths:
    """A project's absolute locations: ``root`` and one attribute per :data:`RELATIVE` key."""

    root: Path
    params_file: Path = field(init=False)
    raw_dir: Path = field(init=False)
    processed_dir: Path = field(init=False)
    reports_dir: Path = field(init=False)
    feedback_dir: Path = field(init=False)
    best_params: Path = field(init=False)
    trained_dir: Path = field(init=False)
    tune_metrics: Path = field(init=False)
    evaluate_metrics: Path = field(init=False)
    feedback_metrics: Path = field(init=False)
    perceptron_metrics: Path = field(init=False)
    mlp_metrics: Path = field(init=False)
    course_metrics: Path = field(init=False)
    tune_summary: Path = field(init=False)
    baselines_record: Path = field(init=False)
    course_predictions: Path = field(init=False)
    comparison_record: Path = field(init=False)
    register_metrics: Path = field(init=False)
    tune_runs: Path = field(init=False)
    train_run: Path = field(init=False)
    evaluate_run: Path = field(init=False)
    baselines_runs: Path = field(init=False)
    register_run: Path = field(init=False)
    plots_dir: Path = field(init=False)
    exercises_dir: Path = field(init=False)
    mlflow_db: Path = field(init=False)
    mlflow_artifacts: Path = field(init=False)
    optuna_journal: Path = field(init=False)
    predictions_db: Path = field(init=False)

    def __post_init__(self) -> None:
        """Resolve ``root`` (paths do not depend on a later ``chdir``) and set every location."""
        root = Path(self.root).resolve()
        object.__setattr__(self, "root", root)
        for name, relative in RELATIVE.items():
            object.__setattr__(self, name, root / relative)

    @classmethod
    def for_params_file(cls, params_file: str | Path) -> ProjectPaths:
        """Return the paths of the project whose parameters file is ``params_file``."""
        return cls(Path(params_file).resolve().parent)

    def baseline_metrics(self, name: str) -> Path:
        """The metrics file of baseline ``name`` (``perceptron``, ``mlp`` or ``course``)."""
        return self.root / RELATIVE[f"{name}_metrics"]
