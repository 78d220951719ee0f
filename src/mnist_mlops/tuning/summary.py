"""What a study found: counts, the best trial as ``best_params.json`` and a top-k table."""

from __future__ import annotations

from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from mnist_mlops.config import ModelConfig, TrainConfig
from mnist_mlops.tune_space import SearchSpace
from mnist_mlops.tuning.objective import REASON_ATTR
from mnist_mlops.tuning.space import rebuild, tuned_sections
from mnist_mlops.tuning.study import state_counts


def counts_summary(study: optuna.Study) -> dict[str, int]:
    """Return ``{"finished", "complete", "pruned", "failed", "running", "waiting"}``."""
    counts = state_counts(study)
    return {
        "finished": counts[TrialState.COMPLETE] + counts[TrialState.PRUNED],
        "complete": counts[TrialState.COMPLETE],
        "pruned": counts[TrialState.PRUNED],
        "failed": counts[TrialState.FAIL],
        "running": counts[TrialState.RUNNING],
        "waiting": counts[TrialState.WAITING],
    }


def best_trial(study: optuna.Study) -> FrozenTrial | None:
    """Return the best COMPLETE trial, or ``None`` when no trial completed."""
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return max(complete, key=lambda trial: (trial.value, -trial.number), default=None)


def best_params_document(
    study: optuna.Study, space: SearchSpace, model: ModelConfig, train: TrainConfig
) -> dict[str, Any] | None:
    """Return the best trial in the format of ``tuning/best_params.json`` (see ``tuned.py``).

    Args:
        study: The study.
        space: The ``tune.space`` it searched.
        model: The ``model`` section (values of dimensions left out).
        train: The ``train`` section (values of dimensions left out).

    Returns:
        ``{"skipped": false, "study", "trial", "value", "model", "train"}``, or ``None`` when
        no trial completed.
    """
    best = best_trial(study)
    if best is None:
        return None
    best_model, best_train = rebuild(best.params, space, model, train)
    return {
        "skipped": False,
        "study": study.study_name,
        "trial": best.number,
        "value": best.value,
    } | tuned_sections(best_model, best_train)


def top_trials(study: optuna.Study, k: int = 10) -> list[FrozenTrial]:
    """Return the ``k`` COMPLETE trials with the highest value, best first."""
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return sorted(complete, key=lambda trial: (-trial.value, trial.number))[:k]


def format_table(trials: list[FrozenTrial]) -> str:
    """Return a plain-text table: number, value, duration, state, then one column per param."""
    names = sorted({name for trial in trials for name in trial.params})
    header = ["trial", "val_accuracy", "seconds", *names]
    rows = [header]
    for trial in trials:
        seconds = trial.duration.total_seconds() if trial.duration else float("nan")
        row = [str(trial.number), f"{trial.value:.4f}", f"{seconds:.1f}"]
        for name in names:
            value = trial.params.get(name, "")
            row.append(f"{value:.4g}" if isinstance(value, float) else str(value))
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows)
    return "\n".join(line.rstrip() for line in lines)


def reason_of(trial: FrozenTrial) -> str | None:
    """Return why a trial was pruned or failed (``None`` if it completed)."""
    return trial.user_attrs.get(REASON_ATTR)
