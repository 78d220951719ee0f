"""Champion/challenger promotion: whether a new model version takes the ``champion`` alias.

Pure decision logic (no MLflow calls), used by :mod:`.register`. A challenger is
compared with the champion only when both were trained on the same data source: the "test"
digits of one source can be training digits of another (``mnist_5k`` is drawn from MNIST's
training set), or another task altogether (Fashion-MNIST).
"""

from __future__ import annotations

from dataclasses import dataclass

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
        promoted: Whether the challenger takes the ``champion`` alias.
        reason: One line for logs, tags and the model card.
        challenger_accuracy: The challenger's accuracy on the current test split.
        champion_accuracy: The champion's accuracy on the same split; ``None`` when there is no
            champion or it was not re-scored (``comparable`` is ``False``).
        champion_version: The champion's version before this decision, or ``None``.
        comparable: Whether both models were trained on the same data source; ``None`` when
            there is no champion to compare with.
        data_source: The data source of the challenger (the current processed data).
        champion_source: The champion's ``data.source`` tag (``None`` when unknown or no
            champion).
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

    An unknown source on either side is never comparable: a champion registered by something
    else than this stage (no ``data.source`` tag) may have been trained on these test digits.
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
    """Decide whether the challenger becomes champion.

    Args:
        challenger: The challenger's accuracy on the current test split.
        champion: The champion's accuracy on the same split (``None`` when there is no
            champion or the sources differ, so it was not scored).
        min_improvement: The least gain over the champion that promotes.
        champion_version: The version holding ``champion``, or ``None`` when there is none.
        data_source: The data source of the current processed data (the challenger's).
        champion_source: The champion version's ``data.source`` tag (``None`` when missing).

    Returns:
        Promoted when there is no champion, or when both were trained on the same source and
        ``challenger - champion >= min_improvement``. A champion from another (or an unknown)
        source is never replaced automatically: the reason names both sources.

    Raises:
        ValueError: The sources match but ``champion`` was not scored.
    """
    data_source, champion_source = known_source(data_source), known_source(champion_source)
    if champion_version is None:
        return Decision(
            promoted=True,
            reason="first model: no champion yet",
            challenger_accuracy=challenger,
            champion_accuracy=None,
            champion_version=None,
            comparable=None,
            data_source=data_source,
            champion_source=None,
        )
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
        return Decision(
            promoted=False,
            reason=reason,
            challenger_accuracy=challenger,
            champion_accuracy=None,
            champion_version=champion_version,
            comparable=False,
            data_source=data_source,
            champion_source=champion_source,
        )
    if champion is None:
        raise ValueError(f"champion v{champion_version} has the same data source but no score")
    gain = challenger - champion
    promoted = gain >= min_improvement - TIE_TOLERANCE
    verb = "reaches" if promoted else "misses"
    reason = (
        f"test accuracy {challenger:.4f} vs champion v{champion_version} {champion:.4f} "
        f"(both on '{data_source}'): gain {gain:+.4f} {verb} min_improvement {min_improvement}"
    )
    return Decision(
        promoted=promoted,
        reason=reason,
        challenger_accuracy=challenger,
        champion_accuracy=champion,
        champion_version=champion_version,
        comparable=True,
        data_source=data_source,
        champion_source=champion_source,
    )


def manual_promotion(name: str, version: str) -> str:
    """Return how to give ``champion`` to ``version`` by hand (appended to incomparable reasons)."""
    return (
        f"to promote v{version} by hand: mlflow.MlflowClient().set_registered_model_alias("
        f"'{name}', '{CHAMPION}', '{version}'), or the alias editor of the version's page in "
        "the MLflow UI"
    )
