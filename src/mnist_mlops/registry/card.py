"""What a registered version says about itself: its tags and its Markdown model card."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from mnist_mlops.config.constants import CHALLENGER, CHAMPION
from mnist_mlops.registry.candidate import Candidate
from mnist_mlops.registry.comparison import (
    DISAGREEMENTS_ARTIFACT,
    SplitComparison,
    per_class_table,
)
from mnist_mlops.registry.promotion import UNKNOWN_SOURCE, Decision
from mnist_mlops.tracking.provenance import PROCESSED_HASH_TAG, SOURCE_TAG, git_commit

MAX_TAG_LENGTH = 5000
DECISION_PREFIX = "register."


def tag_value(value: object) -> str:
    """Return a tag value: ``none`` for ``None``, lower-case booleans, ``str`` otherwise."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def accuracy_tag(value: float | None) -> str:
    """Return an accuracy as a tag value: six decimals, or ``none``."""
    return tag_value(None if value is None else f"{value:.6f}")


def feedback_size(candidate: Candidate) -> int:
    """How many digits the candidate's feedback test split has (0: none)."""
    return 0 if candidate.feedback_test is None else len(candidate.feedback_test.y)


def code_version(root: Path) -> str:
    """Return the git commit of the checkout at ``root`` (``(dirty)`` appended), or ``unknown``."""
    commit, dirty = git_commit(root)
    return f"{commit}{' (dirty)' if dirty else ''}" if commit else "unknown"


def version_tags(
    candidate: Candidate, decision: Decision, params: Mapping[str, str], code: str
) -> dict[str, str]:
    """Return the version's tags: scores, data, ``code``, run ``params``, ``register.*``."""
    metrics, had_champion = candidate.metrics, decision.champion_version is not None
    champion_accuracy = decision.champion_accuracy
    return {
        "test_accuracy": str(metrics.test_accuracy),
        "test_loss": str(metrics.test_loss),
        "macro_f1": str(metrics.macro_f1),
        SOURCE_TAG: candidate.data_source or UNKNOWN_SOURCE,
        PROCESSED_HASH_TAG: str(candidate.processed_sha256),
        "data.test_size": str(len(candidate.test.y)),
        "data.feedback_test_size": str(feedback_size(candidate)),
        "data.feedback_sha256": tag_value(candidate.feedback_sha256),
        "git.commit": code,
        "params": json.dumps(dict(params), sort_keys=True)[:MAX_TAG_LENGTH],
        "training_run_id": candidate.run_id,
        "register.decision": CHAMPION if decision.promoted else CHALLENGER,
        "register.challenger_accuracy": f"{decision.challenger_accuracy:.6f}",
        "register.champion_accuracy": accuracy_tag(champion_accuracy),
        "register.feedback_challenger_accuracy": accuracy_tag(
            decision.feedback_challenger_accuracy
        ),
        "register.feedback_champion_accuracy": accuracy_tag(decision.feedback_champion_accuracy),
        "register.comparable": tag_value(decision.comparable),
        "register.champion_version": tag_value(decision.champion_version),
        "register.champion_source": tag_value(
            (decision.champion_source or UNKNOWN_SOURCE) if had_champion else None
        ),
        "register.reason": decision.reason[:MAX_TAG_LENGTH],
    }


def decision_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """Return the ``register.*`` tags (also set on the training run)."""
    return {key: value for key, value in tags.items() if key.startswith(DECISION_PREFIX)}


def feedback_section(
    tags: Mapping[str, str], decision: Decision, comparisons: list[SplitComparison]
) -> str:
    """The card's feedback line, and the per-class table of a compared champion."""
    size = int(tags["data.feedback_test_size"])
    if size == 0:
        line = (
            "**Feedback**: no feedback test split (no labelled feedback used): the promotion "
            "compared the test split alone."
        )
    else:
        champion = decision.feedback_champion_accuracy
        line = (
            f"**Feedback** (snapshot `{tags['data.feedback_sha256'][:16]}`, {size} feedback "
            f"test digits kept apart): accuracy {decision.feedback_challenger_accuracy:.4f}"
            + ("" if champion is None else f", champion {champion:.4f}")
            + "."
        )
    if not comparisons:
        return line + "\n\n"
    return (
        f"{line}\n\n**Per class** (accuracy of champion v{decision.champion_version} and "
        f"this version):\n\n{per_class_table(comparisons)}\n\n"
        f"**Disagreements**: the digits they answer differently, both answers and confidences: "
        f"artifact `{DISAGREEMENTS_ARTIFACT}` of training run `{tags['training_run_id']}`.\n\n"
    )


def model_card(
    name: str,
    version: str,
    tags: Mapping[str, str],
    decision: Decision,
    comparisons: list[SplitComparison] | None = None,
) -> str:
    """Return version ``version`` of ``name``'s Markdown card from its :func:`version_tags`.

    ``comparisons``: both models' answers (none when no champion was compared).
    """
    params = json.loads(tags["params"])
    param_lines = "\n".join(f"- `{key}`: {value}" for key, value in sorted(params.items()))
    if decision.comparable is False:
        champion = (
            f"not measured: champion trained on `{decision.champion_source or UNKNOWN_SOURCE}`, "
            f"this model on `{decision.data_source or UNKNOWN_SOURCE}`"
        )
    elif decision.champion_accuracy is None:
        champion = "none"
    else:
        champion = f"{decision.champion_accuracy:.4f}"
    return (
        f"# {name} v{version}\n\n"
        "Digit classifier (784 pixels -> dense layers, after conv blocks for a CNN -> 10 "
        "softmax classes), served as an ONNX graph by ONNX Runtime; input rows of 784 floats "
        "in [0, 1] or raw 0-255 pixels; output columns digit, probability_0 ... "
        "probability_9.\n\n"
        f"**Data**: source `{tags[SOURCE_TAG]}`, processed splits sha256 "
        f"`{tags[PROCESSED_HASH_TAG][:16]}...`, {tags['data.test_size']} test digits.\n\n"
        f"**Metrics** (test): accuracy {tags['test_accuracy']}, macro F1 {tags['macro_f1']}, "
        f"loss {tags['test_loss']}.\n\n"
        + feedback_section(tags, decision, comparisons or [])
        + f"**Params** (training run `{tags['training_run_id']}`):\n{param_lines}\n\n"
        f"**Promotion**: {'champion' if decision.promoted else 'challenger'} - "
        f"{decision.reason} (champion score {champion}).\n\n"
        f"**Code**: git commit `{tags['git.commit']}`.\n"
    )
