"""What a study found: counts, the best trial as :class:`BestParams` and a top-k table.

The best trial is chosen either among all finished trials of the study (``first_n=None``: what
``mnist-mlops study show`` and ``mnist-mlops tune`` report, the best found so far) or among the
first ``first_n`` finished trials by trial number (the tune stage, so that ``best_params.json``
depends on ``tune.n_trials`` and not on how many trials the storage happens to hold).
"""

from __future__ import annotations

import optuna
from optuna.trial import FrozenTrial, TrialState

from mnist_mlops.artifacts.best_params import BestParams
from mnist_mlops.config.params import ModelConfig, TrainConfig
from mnist_mlops.config.space import SearchSpace
from mnist_mlops.tuning.space import rebuild
from mnist_mlops.tuning.study import FINISHED, REASON_ATTR, state_counts, trial_value


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


def considered_trials(study: optuna.Study, first_n: int | None = None) -> list[FrozenTrial]:
    """Return the finished (COMPLETE or PRUNED) trials that compete for the best, by number.

    Args:
        study: The study.
        first_n: Keep only the first ``first_n`` finished trials by trial number (``None``:
            all of them). FAILED trials do not count (their retry has a later number).

    Returns:
        The finished trials, ordered by trial number.
    """
    finished = sorted(
        study.get_trials(deepcopy=False, states=FINISHED), key=lambda trial: trial.number
    )
    return finished if first_n is None else finished[: max(first_n, 0)]


def best_trial(study: optuna.Study, first_n: int | None = None) -> FrozenTrial | None:
    """Return the best COMPLETE trial, or ``None`` when no (considered) trial completed.

    Args:
        study: The study.
        first_n: Choose among the first ``first_n`` finished trials only (see
            :func:`considered_trials`); ``None``: among all trials of the study.

    Returns:
        The COMPLETE trial with the highest value (the lowest number on ties), or ``None``.
    """
    complete = [
        trial for trial in considered_trials(study, first_n) if trial.state == TrialState.COMPLETE
    ]
    return max(complete, key=lambda trial: (trial.value, -trial.number), default=None)


def best_params_document(
    study: optuna.Study,
    space: SearchSpace,
    model: ModelConfig,
    train: TrainConfig,
    first_n: int | None = None,
) -> BestParams | None:
    """Return the best trial as the tune stage's best parameters (:class:`BestParams`).

    Args:
        study: The study.
        space: The ``tune.space`` it searched.
        model: The ``model`` section (values of dimensions left out).
        train: The ``train`` section (values of dimensions left out).
        first_n: Choose among the first ``first_n`` finished trials only (the tune stage);
            ``None``: among all trials of the study.

    Returns:
        The best trial's study, number, value and the sections it trained, or ``None`` when
        no considered trial completed.
    """
    best = best_trial(study, first_n)
    if best is None:
        return None
    best_model, best_train = rebuild(best.params, space, model, train)
    return BestParams.from_trial(
        study=study.study_name,
        trial=best.number,
        value=trial_value(best),
        model=best_model,
        train=best_train,
        searched=space.searched(),
    )


def top_trials(study: optuna.Study, k: int = 10) -> list[FrozenTrial]:
    """Return the ``k`` COMPLETE trials with the highest value, best first."""
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return sorted(complete, key=lambda trial: (-trial_value(trial), trial.number))[:k]


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
