"""The ``metrics/*.json`` files (headline figures, no timings) and the ``records/*.json`` files.

Metric names are unique across the files, so ``dvc exp show`` needs no ``path:`` prefixes
(rationale in docs/decisions/run-records.md); locations are in
:class:`mnist_mlops.config.paths.ProjectPaths`.
"""

from __future__ import annotations

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
    OMIT_NONE = True  # a score that was not measured is left out


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


class FeedbackMetrics(JsonArtifact):
    """``metrics/feedback.json``: accuracy on the ``feedback_test`` split (``{}``: no split).

    Empty without feedback, so that ``dvc metrics show`` keeps its headline columns.
    """

    PRODUCER = "evaluate"
    OMIT_NONE = True

    feedback_test_digits: int | None = None
    feedback_accuracy: float | None = None


class BaselineScores(TestScores):
    """One baseline: test scores plus training / validation accuracy and fit time."""

    train_accuracy: float
    val_accuracy: float
    fit_time_s: float


class BaselineMetrics(JsonArtifact):
    """``metrics/<baseline>.json``: one baseline's headline figures (one row of the table)."""

    PRODUCER = "baselines"

    baseline_test_accuracy: float
    val_accuracy: float

    @classmethod
    def from_scores(cls, scores: BaselineScores) -> BaselineMetrics:
        """Return the headline figures of one baseline's scores."""
        return cls(baseline_test_accuracy=scores.test_accuracy, val_accuracy=scores.val_accuracy)


class BaselinesMetrics(JsonArtifact):
    """``records/baselines.json``: full scores and fit times (``course`` ``None``: not fitted)."""

    PRODUCER = "baselines"

    perceptron: BaselineScores
    mlp: BaselineScores
    course: BaselineScores | None = None
    OMIT_NONE = True  # the perceptron has no test_loss


class CoursePredictions(JsonArtifact):
    """``records/course_predictions.json``: the course reference run's digit for each test image."""

    PRODUCER = "baselines"

    predicted: list[int]


class CourseComparison(JsonArtifact):
    """``records/comparison.json``: the trained model against the course run, same test images.

    ``margin``: trained minus course test accuracy; ``margin_low``/``margin_high``: its paired
    bootstrap interval at ``confidence`` over the test images; ``trained_only_right`` and
    ``course_only_right``: the images one model gets right and the other wrong, and
    ``mcnemar_p`` the exact McNemar test's two-sided p-value on them.
    """

    PRODUCER = "evaluate"

    test_images: int
    trained_accuracy: float
    course_accuracy: float
    margin: float
    margin_low: float
    margin_high: float
    confidence: float
    bootstrap_draws: int
    trained_only_right: int
    course_only_right: int
    mcnemar_p: float

    def verdict(self) -> str:
        """Return ``better``, ``worse`` or ``undecided`` (the interval holds 0)."""
        if self.margin_low > 0:
            return "better"
        return "worse" if self.margin_high < 0 else "undecided"


class TuneMetrics(JsonArtifact):
    """``metrics/tune.json``: the best considered trial's validation accuracy (``{}``: none)."""

    PRODUCER = "tune"
    OMIT_NONE = True

    val_accuracy: float | None = None


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

    def to_json(self) -> dict[str, object]:
        """Return the file's content (a skipped marker is ``{"skipped": true}``)."""
        if self.skipped:
            return {"skipped": True}
        return self.model_dump(mode="json")


class RegisterSummary(JsonArtifact):
    """``records/register.json``: the registered version and the promotion decision.

    ``champion_*`` and ``comparable`` are ``None`` when there was no champion (or it was not
    scored); ``comparable``: both trained on the same data source.
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
    feedback_challenger_accuracy: float | None = None
    feedback_champion_accuracy: float | None = None
    feedback_test_digits: int = 0
