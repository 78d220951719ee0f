"""Champion/challenger promotion: whether a new version takes the ``champion`` alias (pure).

Models trained on different data sources are never compared: one source's test digits can be
another's training digits (``mnist_5k`` is drawn from MNIST's training set).
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
) -> Decision:
    """Decide whether the challenger (accuracy ``challenger``) becomes champion.

    Promoted when there is no champion (``champion_version`` ``None``), or when both were
    trained on the same source and ``challenger - champion >= min_improvement``. A champion of
    another or unknown source stays; the reason names both sources.

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
    promoted = gain >= min_improvement - TIE_TOLERANCE
    verb = "reaches" if promoted else "misses"
    reason = (
        f"test accuracy {challenger:.4f} vs champion v{champion_version} {champion:.4f} "
        f"(both on '{data_source}'): gain {gain:+.4f} {verb} min_improvement {min_improvement}"
    )
    return decision(promoted=promoted, reason=reason, champion_accuracy=champion, comparable=True)


def manual_promotion(name: str, version: str) -> str:
    """Return how to give ``champion`` to ``version`` by hand (appended to incomparable reasons)."""
    return (
        f"to promote v{version} by hand: mlflow.MlflowClient().set_registered_model_alias("
        f"'{name}', '{CHAMPION}', '{version}'), or the alias editor of the version's page in "
        "the MLflow UI"
    )
