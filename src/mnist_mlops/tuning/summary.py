"""What a study found: counts, the best trial as :class:`BestParams` and a top-k table.

``first_n``: choose among the first ``first_n`` finished trials by number (the tune stage);
``None``: among all of them.
"""

from __future__ import annotations

import optuna
from optuna.trial import FrozenTrial, TrialState

from mnist_mlops.artifacts.best_params import BestParams
from mnist_mlops.config.params import ModelConfig, TrainConfig
from mnist_mlops.config.space import SearchSpace
from mnist_mlops.tuning.space import rebuild
from mnist_mlops.tuning.study import FINISHED, state_counts, trial_value


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
    """Return the finished (COMPLETE or PRUNED) trials that compete for the best, by number."""
    finished = sorted(
        study.get_trials(deepcopy=False, states=FINISHED), key=lambda trial: trial.number
    )
    return finished if first_n is None else finished[: max(first_n, 0)]


def best_trial(study: optuna.Study, first_n: int | None = None) -> FrozenTrial | None:
    """Return the considered COMPLETE trial of highest value (lowest number first), or ``None``."""
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
    """Return the :func:`best_trial` with the sections it trained, or ``None``.

    ``model`` / ``train`` give the values of the dimensions ``space`` leaves out.
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
