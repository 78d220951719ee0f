"""The ``metrics/*.json`` files (``dvc metrics show`` / ``diff``) and the stages' records.

The metrics files hold only the headline figures, under names unique across them (so that
``dvc exp show`` needs no ``path:`` prefixes) and short enough for one 120-column table:

* :class:`EvaluateMetrics` - ``metrics/evaluate.json`` (evaluate -> register);
* :class:`TuneMetrics` - ``metrics/tune.json`` (the best trial's validation accuracy);
* :class:`BaselineMetrics` - ``metrics/perceptron.json``, ``metrics/mlp.json`` and
  ``metrics/course.json`` (the course's network as a reference run).

Timings are not metrics (they change every run and would top every ``dvc metrics diff``):
the records and the MLflow runs keep them.

Everything else is a record (``records/*.json``, not a DVC metric): the full scores
(:class:`EvaluationScores`, per class in ``plots/per_class.csv``; :class:`BaselinesMetrics`),
the study's bookkeeping (:class:`TuneSummary`) and the promotion decision
(:class:`RegisterSummary`). Their locations are in :class:`mnist_mlops.config.paths.ProjectPaths`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from mnist_mlops.artifacts.base import JsonArtifact


class ClassScores(BaseModel):
    """Precision, recall, F1 and support of one digit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    precision: float
    recall: float
    f1: float
    support: int


class TestScores(JsonArtifact):
    """Test-split scores shared by the Keras model and the baselines (same metric names)."""

    __test__ = False  # not a pytest test class

    test_accuracy: float
    test_loss: float | None = None
    macro_precision: float
    macro_recall: float
    macro_f1: float
    per_class: dict[str, ClassScores]

    def to_json(self) -> dict[str, Any]:
        """Return the file's content (a score that was not measured is left out)."""
        return self.model_dump(mode="json", exclude_none=True)


class EvaluationScores(TestScores):
    """The trained model's full test scores (logged to MLflow; per class in ``plots/``)."""

    PRODUCER = "evaluate"

    test_loss: float


class EvaluateMetrics(JsonArtifact):
    """``metrics/evaluate.json``: the trained model's headline test figures."""

    PRODUCER = "evaluate"

    test_accuracy: float
    macro_f1: float
    test_loss: float

    @classmethod
    def from_scores(cls, scores: EvaluationScores) -> EvaluateMetrics:
        """Return the headline figures of the full scores."""
        return cls(
            test_accuracy=scores.test_accuracy, macro_f1=scores.macro_f1, test_loss=scores.test_loss
        )


class BaselineScores(TestScores):
    """One baseline: test scores plus training / validation accuracy and fit time."""

    train_accuracy: float
    val_accuracy: float
    fit_time_s: float


class BaselineMetrics(JsonArtifact):
    """``metrics/<baseline>.json``: one baseline's headline figures (one row of the table).

    ``baseline_test_accuracy`` is named apart from the trained model's ``test_accuracy`` so
    that ``dvc exp show`` keeps the model's column unprefixed. No fit time (see above).
    """

    PRODUCER = "baselines"

    baseline_test_accuracy: float
    val_accuracy: float

    @classmethod
    def from_scores(cls, scores: BaselineScores) -> BaselineMetrics:
        """Return the headline figures of one baseline's scores."""
        return cls(baseline_test_accuracy=scores.test_accuracy, val_accuracy=scores.val_accuracy)


class BaselinesMetrics(JsonArtifact):
    """``records/baselines.json``: the comparisons' full scores, fit times included.

    scikit-learn's ``perceptron`` and ``mlp``, and the course's network ``course`` (which the
    stage always fits; ``None`` in a record of the scikit-learn baselines alone).
    """

    PRODUCER = "baselines"

    perceptron: BaselineScores
    mlp: BaselineScores
    course: BaselineScores | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the file's content (a score that was not measured is left out).

        As in :meth:`TestScores.to_json`: the perceptron has no ``test_loss``.
        """
        return self.model_dump(mode="json", exclude_none=True)


class TuneMetrics(JsonArtifact):
    """``metrics/tune.json``: the best considered trial's validation accuracy.

    ``val_accuracy`` shares its column with the baselines' validation accuracy; ``{}`` when
    tuning was skipped.
    """

    PRODUCER = "tune"

    val_accuracy: float | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the file's content (``{}`` without a best trial)."""
        return self.model_dump(mode="json", exclude_none=True)


class TuneSummary(JsonArtifact):
    """``records/tune.json``: the study's trial counts and best trial (or the skipped marker)."""

    PRODUCER = "tune"

    skipped: bool
    study: str | None = None
    n_trials_target: int | None = None
    complete: int | None = None
    pruned: int | None = None
    failed: int | None = None
    running: int | None = None
    waiting: int | None = None
    finished: int | None = None
    considered_trials: int | None = None
    study_finished_trials: int | None = None
    best_trial: int | None = None
    best_val_accuracy: float | None = None
    duration_s: float | None = None
    mlflow_parent_run_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the file's content (a skipped marker is ``{"skipped": true}``)."""
        if self.skipped:
            return {"skipped": True}
        return self.model_dump(mode="json")


class RegisterSummary(JsonArtifact):
    """``records/register.json``: the registered version and the promotion decision.

    Attributes:
        model_name: The registered model.
        version: The new version.
        model_uri: ``models:/<name>/<version>``.
        logged_model_uri: The logged pyfunc model it was registered from.
        min_improvement: ``register.min_improvement``.
        promoted: Whether the version took the ``champion`` alias.
        reason: Why (one line).
        challenger_accuracy: The new version's test accuracy.
        champion_accuracy: The champion's, on the same split (``None``: not scored).
        champion_version: The champion before the decision (``None``: there was none).
        comparable: Whether both were trained on the same data source (``None``: no champion).
        data_source: The new version's data source.
        champion_source: The champion's data source.
    """

    PRODUCER = "register"

    model_name: str
    version: str
    model_uri: str
    logged_model_uri: str
    min_improvement: float
    promoted: bool
    reason: str
    challenger_accuracy: float
    champion_accuracy: float | None
    champion_version: str | None
    comparable: bool | None
    data_source: str | None
    champion_source: str | None
