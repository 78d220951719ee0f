"""Champion/challenger promotion: whether a new version takes the ``champion`` alias (pure).

Models trained on different data sources are never compared: one source's test digits can be
another's training digits (``mnist_5k`` is drawn from MNIST's training set). With a feedback test
split both are also scored on it, and the rule of :func:`decide` weighs both scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from mnist_mlops.config.constants import CHAMPION
from mnist_mlops.tracking.provenance import SOURCE_TAG

TIE_TOLERANCE = 1e-12
UNKNOWN_SOURCE = "unknown"
UNKNOWN_SOURCES = frozenset({"", "none", "null", UNKNOWN_SOURCE})


@dataclass(frozen=True)
class Champion:
    """The version holding the ``champion`` alias and the data source it was trained on."""

    version: str
    source: str | None


@dataclass(frozen=True)
class Decision:
    """The outcome of comparing a challenger with the current champion.

    Attributes:
        reason: One line for logs, tags and the model card.
        champion_accuracy: ``None`` when there is no champion or it was not scored.
        champion_version: The champion's version before this decision, or ``None``.
        comparable: Whether both were trained on the same data source (``None``: no champion).
    """

    promoted: bool
    reason: str
    challenger_accuracy: float
    champion_accuracy: float | None
    champion_version: str | None
    comparable: bool | None = None
    data_source: str | None = None
    champion_source: str | None = None
    feedback_challenger_accuracy: float | None = None
    feedback_champion_accuracy: float | None = None


def known_source(value: object) -> str | None:
    """Return ``value`` as a data source name, or ``None`` when it is missing or unknown."""
    if value is None:
        return None
    text = str(value).strip()
    return None if text.lower() in UNKNOWN_SOURCES else text


def same_source(data_source: str | None, champion_source: str | None) -> bool:
    """Whether a champion trained on ``champion_source`` may be scored on ``data_source``.

    An unknown source on either side is never comparable.
    """
    data, champion = known_source(data_source), known_source(champion_source)
    return data is not None and data == champion


def decide(
    challenger: float,
    champion: float | None,
    min_improvement: float,
    champion_version: str | None,
    *,
    data_source: str | None,
    champion_source: str | None,
    feedback: tuple[float, float] | None = None,
    max_test_drop: float = 0.0,
) -> Decision:
    """Decide whether the challenger (test accuracy ``challenger``) becomes champion.

    Promoted when there is no champion (``champion_version`` ``None``). A champion of another
    or unknown source stays (the reason names both sources). Otherwise, without ``feedback``:
    promoted when ``challenger - champion >= min_improvement``. With ``feedback`` (challenger
    and champion accuracy on the feedback test split): promoted when the test accuracy falls
    by at most ``max_test_drop``, the feedback accuracy does not fall, and one of the two
    gains at least ``min_improvement``.

    Raises:
        ValueError: The sources match but ``champion`` was not scored.
    """
    data_source, champion_source = known_source(data_source), known_source(champion_source)
    decision = partial(
        Decision,
        challenger_accuracy=challenger,
        champion_version=champion_version,
        data_source=data_source,
        champion_source=champion_source,
        feedback_challenger_accuracy=feedback[0] if feedback else None,
    )
    if champion_version is None:
        first = "first model: no champion yet"
        return decision(promoted=True, reason=first, champion_accuracy=None, champion_source=None)
    if not same_source(data_source, champion_source):
        trained_on = (
            f"data source '{champion_source}'"
            if champion_source is not None
            else f"an unknown data source (no {SOURCE_TAG} tag)"
        )
        reason = (
            f"not compared: champion v{champion_version} was trained on {trained_on}, this "
            f"model on '{data_source or UNKNOWN_SOURCE}', so their test accuracies are not "
            f"comparable; champion v{champion_version} stays (test accuracy {challenger:.4f} "
            f"on '{data_source or UNKNOWN_SOURCE}')"
        )
        return decision(promoted=False, reason=reason, champion_accuracy=None, comparable=False)
    if champion is None:
        raise ValueError(f"champion v{champion_version} has the same data source but no score")
    gain = challenger - champion
    reason = (
        f"test accuracy {challenger:.4f} vs champion v{champion_version} {champion:.4f} "
        f"(both on '{data_source}'): gain {gain:+.4f}"
    )
    if feedback is None:
        promoted = gain >= min_improvement - TIE_TOLERANCE
        verb = "reaches" if promoted else "misses"
        reason = f"{reason} {verb} min_improvement {min_improvement}"
    else:
        feedback_gain = feedback[0] - feedback[1]
        kept = gain >= -max_test_drop - TIE_TOLERANCE and feedback_gain >= -TIE_TOLERANCE
        promoted = kept and max(gain, feedback_gain) >= min_improvement - TIE_TOLERANCE
        reason = (
            f"{reason}; feedback accuracy {feedback[0]:.4f} vs {feedback[1]:.4f}: gain "
            f"{feedback_gain:+.4f}; {'promoted' if promoted else 'stays challenger'}: the rule "
            f"is a test drop of at most max_test_drop {max_test_drop}, no feedback drop, and a "
            f"gain of min_improvement {min_improvement} in one of them"
        )
    return decision(
        promoted=promoted,
        reason=reason,
        champion_accuracy=champion,
        comparable=True,
        feedback_champion_accuracy=feedback[1] if feedback else None,
    )


def manual_promotion(name: str, version: str) -> str:
    """Return how to give ``champion`` to ``version`` by hand (appended to incomparable reasons)."""
    return (
        f"to promote v{version} by hand: mlflow.MlflowClient().set_registered_model_alias("
        f"'{name}', '{CHAMPION}', '{version}'), or the alias editor of the version's page in "
        "the MLflow UI"
    )
