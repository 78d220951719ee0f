"""Every file and folder of a project, in one place, relative to the project's root.

The root is the folder that holds ``params.yaml``: the stage entry points and the command line
build one :class:`ProjectPaths` from the parameters file they were given and pass its paths
down. Library functions take the paths they need as arguments and never look at the current
directory. ``dvc.yaml`` names the same paths (a test checks that they agree).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PARAMS_FILE = "params.yaml"

# Each location as ``dvc.yaml`` spells it, relative to the project root.
RELATIVE = {
    "params_file": PARAMS_FILE,
    "raw_dir": "data/raw",
    "processed_dir": "data/processed",
    "reports_dir": "data/reports",
    "best_params": "tuning/best_params.json",
    "trained_dir": "models/trained",
    "tune_metrics": "metrics/tune.json",
    "evaluate_metrics": "metrics/evaluate.json",
    "perceptron_metrics": "metrics/perceptron.json",
    "mlp_metrics": "metrics/mlp.json",
    "course_metrics": "metrics/course.json",
    "tune_summary": "records/tune.json",
    "baselines_record": "records/baselines.json",
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
}


@dataclass(frozen=True)
class ProjectPaths:
    """The locations of one project (a checkout of this repository, or a copy of it).

    Attributes:
        root: The project folder (absolute).
    """

    root: Path

    def __post_init__(self) -> None:
        """Make ``root`` absolute, so that the paths do not depend on a later ``chdir``."""
        object.__setattr__(self, "root", Path(self.root).resolve())

    @classmethod
    def for_params_file(cls, params_file: str | Path) -> ProjectPaths:
        """Return the paths of the project whose parameters file is ``params_file``."""
        return cls(Path(params_file).resolve().parent)

    def _at(self, name: str) -> Path:
        return self.root / RELATIVE[name]

    @property
    def params_file(self) -> Path:
        """``params.yaml``: the single source of values."""
        return self._at("params_file")

    @property
    def raw_dir(self) -> Path:
        """The download stage's output: raw files and their manifest."""
        return self._at("raw_dir")

    @property
    def processed_dir(self) -> Path:
        """The preprocess stage's splits and their meta file."""
        return self._at("processed_dir")

    @property
    def reports_dir(self) -> Path:
        """The preprocess stage's dataset report."""
        return self._at("reports_dir")

    @property
    def best_params(self) -> Path:
        """The tune stage's best parameters (read by train)."""
        return self._at("best_params")

    @property
    def trained_dir(self) -> Path:
        """The train stage's model and history (its run is :attr:`train_run`)."""
        return self._at("trained_dir")

    @property
    def tune_metrics(self) -> Path:
        """The tune stage's metric: the best trial's validation accuracy."""
        return self._at("tune_metrics")

    @property
    def tune_summary(self) -> Path:
        """The tune stage's record of the study (counts, best trial, parent run)."""
        return self._at("tune_summary")

    @property
    def evaluate_metrics(self) -> Path:
        """The evaluate stage's test metrics (read by register)."""
        return self._at("evaluate_metrics")

    @property
    def perceptron_metrics(self) -> Path:
        """The baselines stage's metrics of the perceptron."""
        return self._at("perceptron_metrics")

    @property
    def mlp_metrics(self) -> Path:
        """The baselines stage's metrics of the MLPClassifier."""
        return self._at("mlp_metrics")

    @property
    def course_metrics(self) -> Path:
        """The baselines stage's metrics of the course network (reference run)."""
        return self._at("course_metrics")

    def baseline_metrics(self, name: str) -> Path:
        """The metrics file of baseline ``name`` (``perceptron``, ``mlp`` or ``course``)."""
        return self._at(f"{name}_metrics")

    @property
    def baselines_record(self) -> Path:
        """The baselines stage's full scores (not a DVC metric)."""
        return self._at("baselines_record")

    @property
    def register_metrics(self) -> Path:
        """The register stage's decision (a record, not a DVC metric)."""
        return self._at("register_metrics")

    @property
    def tune_runs(self) -> Path:
        """The tune stage's MLflow runs: the launch's parent run and its trials."""
        return self._at("tune_runs")

    @property
    def train_run(self) -> Path:
        """The train stage's MLflow run (evaluate and register log into it)."""
        return self._at("train_run")

    @property
    def evaluate_run(self) -> Path:
        """The run the evaluate stage logged the test metrics into."""
        return self._at("evaluate_run")

    @property
    def baselines_runs(self) -> Path:
        """The baselines stage's MLflow runs."""
        return self._at("baselines_runs")

    @property
    def register_run(self) -> Path:
        """The register stage's model version and aliases."""
        return self._at("register_run")

    @property
    def plots_dir(self) -> Path:
        """The evaluate stage's plots (``dvc plots``)."""
        return self._at("plots_dir")

    @property
    def exercises_dir(self) -> Path:
        """``mnist-mlops exercises``' comparison table and curves."""
        return self._at("exercises_dir")

    @property
    def mlflow_db(self) -> Path:
        """The default MLflow tracking store (SQLite)."""
        return self._at("mlflow_db")

    @property
    def mlflow_artifacts(self) -> Path:
        """The artifact root of experiments in the default store."""
        return self._at("mlflow_artifacts")

    @property
    def optuna_journal(self) -> Path:
        """The default Optuna storage (a journal file)."""
        return self._at("optuna_journal")
